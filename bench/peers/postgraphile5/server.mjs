// Child process (Node 22): PostGraphile v5 with the simplify-inflection preset serving the same
// tables as tagraph, the query benchmark's second peer. Every statement its pg clients send is
// counted and served on GET /__statements. Started by bench/lib/peers.ts with this folder's Node.
import { createServer } from 'node:http';
import { PgSimplifyInflectionPreset } from '@graphile/simplify-inflection';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { jsonPgSmartTags } from 'postgraphile/utils';

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  statements += 1;
  return query.apply(this, args);
};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  plugins: [
    // `tag_conditions` would be `TagCondition`, the name of the `tags` filter input type.
    jsonPgSmartTags({
      version: 1,
      config: {
        class: {
          tag_conditions: { tags: { name: 'tag_status_condition' } },
          // Role names such as `image-puller` are not valid GraphQL enum values; not queried here.
          role_bindings: { tags: { behavior: '-*' } },
        },
        // `registry-verified` is not a valid GraphQL enum value either; not queried here.
        attribute: { 'images.metadata_source': { tags: { behavior: '-*' } } },
      },
    }),
  ],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// The plain handler (no websockets), so this server can answer /__statements itself.
const handler = serv.createHandler();
const server = createServer((req, res) => {
  if (req.url === '/__statements') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ statements }));
    return;
  }
  handler(req, res);
});
await serv.ready();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
  if (!process.send) console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void pgl
    .release()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
