// `npm run build`: compiles src/ into dist/ (ES modules for Node >= 22, dependencies left as imports)
// and the web UI of web/src into dist/web.
// `node esbuild.config.mjs --outdir <dir>` builds elsewhere (tests stage a package that way).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildWebUi, webDocuments } from './web/build.mjs';

const root = import.meta.dirname;
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = values.outdir ? resolve(values.outdir) : `${root}/dist`;

/** Output file (without .js) → source entry point. */
const entryPoints = {
  main: `${root}/src/main.ts`,
  worker: `${root}/src/worker.ts`,
  migrate: `${root}/src/migrate.ts`,
  cli: `${root}/src/cli/bin.ts`,
};

/**
 * Development dependencies compiled into dist/ instead of imported at run time: the runtime of
 * the CLI's typed documents (gql.tada's `graphql()` and the parser and printer it uses). gql.tada
 * needs TypeScript as a peer, which a production install must not pull in.
 */
const BUNDLED_PACKAGES = /^(gql\.tada|@0no-co\/graphql\.web)$/;
const BUNDLED_FILES = /\/node_modules\/(gql\.tada|@0no-co\/graphql\.web)\/.*\.mjs$/;

/**
 * Resolves BUNDLED_PACKAGES to their ES module files, so `packages: 'external'` skips them, and
 * minifies them: they are the only third-party code in dist/.
 */
const bundlePackages = {
  name: 'bundle-packages',
  setup(build) {
    build.onResolve({ filter: BUNDLED_PACKAGES }, (args) => ({
      path: fileURLToPath(import.meta.resolve(args.path)),
    }));
    build.onLoad({ filter: BUNDLED_FILES }, async (args) => {
      const { code } = await esbuild.transform(await readFile(args.path, 'utf8'), {
        loader: 'js',
        format: 'esm',
        target: 'node22',
        minify: true,
      });
      return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // A production-only install (`npm ci --omit=dev`) has no compiler; a packed or copied build
  // already carries dist/.
  if (existsSync(`${outdir}/main.js`)) process.exit(0);
  console.error('tagraph build: esbuild is missing; run `npm ci` (with dev dependencies) first');
  process.exit(1);
}

rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints,
  outdir,
  bundle: true,
  // Shared modules go to chunks, so the CLI does not load the server's code to start.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Every package but BUNDLED_PACKAGES stays an import resolved from node_modules at run time.
  packages: 'external',
  plugins: [bundlePackages],
  sourcemap: true,
  logLevel: 'warning',
});
// The web UI the server serves at `/` (src/server/webUi.ts): browser code, all of it bundled.
await buildWebUi(esbuild, `${outdir}/web`);
await writeCliManifest(`${outdir}/cli-documents.json`);
// The web UI's documents, for a gateway that runs trusted documents only.
writeFileSync(
  `${outdir}/web-documents.json`,
  `${JSON.stringify(await webDocuments(esbuild), null, 2)}\n`,
);

/**
 * dist/cli-documents.json: every document the CLI sends, by SHA-256, for servers that run trusted
 * documents only (TAGRAPH_TRUSTED_DOCUMENTS). src/cli/persisted.ts lists them; it is bundled
 * whole into memory and run here.
 */
async function writeCliManifest(path) {
  const { outputFiles } = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [`${root}/src/cli/persisted.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    logLevel: 'warning',
  });
  const code = Buffer.from(outputFiles[0].contents).toString('base64');
  const { cliManifest } = await import(`data:text/javascript;base64,${code}`);
  writeFileSync(path, `${JSON.stringify(cliManifest(), null, 2)}\n`);
}
