// Child process: PostGraphile v4 on node:http serving the same tables, the query benchmark's peer.
// Every statement its pg clients send is counted and served on GET /__statements.
import { createServer } from 'node:http';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import PgSimplifyInflectorPlugin from '@graphile-contrib/pg-simplify-inflector';
import pg from 'pg';

// The project's graphql is 16, so npm gave postgraphile and graphile-build-pg each a private copy
// of graphql 15, and graphql-parse-resolve-info gets the top-level 16; types built by one fail
// `instanceof` in another ("Unexpected input type: Int" for any literal argument). This process
// runs nothing but PostGraphile, so every `graphql` import here loads postgraphile's own copy.
const require = createRequire(import.meta.url);
const graphql15 = dirname(require.resolve('postgraphile/node_modules/graphql/package.json'));
const moduleInternals = Module as unknown as {
  _resolveFilename(
    request: string,
    parent: { filename?: string } | undefined,
    ...rest: unknown[]
  ): string;
};
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (request, parent, ...rest) {
  if (request === 'graphql' || request.startsWith('graphql/')) {
    return resolveFilename.call(this, request.replace(/^graphql/, graphql15), parent, ...rest);
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
const { makeJSONPgSmartTagsPlugin, postgraphile } =
  require('postgraphile') as typeof import('postgraphile');
type Plugin = import('postgraphile').Plugin;

let statements = 0;
const query = pg.Client.prototype.query;
// biome-ignore lint/suspicious/noExplicitAny: wraps pg's overloaded query() as is
pg.Client.prototype.query = function (this: pg.Client, ...args: any[]) {
  statements += 1;
  // biome-ignore lint/suspicious/noExplicitAny: same overloads
  return (query as any).apply(this, args);
} as typeof query;

const databaseUrl = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
const middleware = postgraphile(pool, 'public', {
  appendPlugins: [
    // Its typings describe the CommonJS module object; at runtime the default import is the plugin.
    PgSimplifyInflectorPlugin as unknown as Plugin,
    // `tag_conditions` would be `TagCondition`, the name of the `tags` filter input type.
    makeJSONPgSmartTagsPlugin({
      version: 1,
      config: { class: { tag_conditions: { tags: { name: 'TagStatusCondition' } } } },
    }),
  ],
  graphiql: false,
  watchPg: false,
  disableQueryLog: true,
  dynamicJson: true,
  retryOnInitFail: false,
});
const server = createServer((req, res) => {
  if (req.url === '/__statements') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ statements }));
    return;
  }
  middleware(req, res);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.send?.({ port: address.port });
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
