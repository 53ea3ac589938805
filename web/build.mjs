// Bundles the web UI (web/src) into `<outdir>`: hashed script and style files and the page naming them.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const root = import.meta.dirname;

/**
 * Builds the UI with `esbuild` (the caller's, so one compiler serves the whole build) for the
 * browsers of the last few years. Every dependency is bundled: the page loads nothing from
 * another origin. Returns the names of the files written.
 */
export async function buildWebUi(esbuild, outdir) {
  const documents = await webDocuments(esbuild);
  // The page sends each document by its hash, known here: browsers hash only in secure contexts.
  const hashes = Object.fromEntries(Object.entries(documents).map(([hash, text]) => [text, hash]));
  const result = await esbuild.build({
    define: { __DOCUMENT_HASHES__: JSON.stringify(hashes) },
    absWorkingDir: root,
    entryPoints: { app: join(root, 'src/main.tsx'), style: join(root, 'src/app.css') },
    outdir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => /^app-.*\.js$/.test(name));
  const style = outputs.find((name) => /^style-.*\.css$/.test(name));
  if (!script || !style) throw new Error(`web UI build: missing outputs in ${outputs.join(', ')}`);
  const template = await readFile(join(root, 'index.html'), 'utf8');
  const page = template.replace('{{script}}', `/ui/${script}`).replace('{{style}}', `/ui/${style}`);
  await writeFile(join(outdir, 'index.html'), page);
  return [...outputs, 'index.html'];
}

/**
 * Every GraphQL document the page sends (the operations web/src/queries.ts exports), by the
 * SHA-256 of its text: a manifest for TAGRAPH_TRUSTED_DOCUMENTS (dist/web-documents.json).
 */
export async function webDocuments(esbuild) {
  const { outputFiles } = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, 'src/queries.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'warning',
  });
  const code = Buffer.from(outputFiles[0].contents).toString('base64');
  const exports = await import(`data:text/javascript;base64,${code}`);
  const documents = {};
  for (const value of Object.values(exports)) {
    if (typeof value !== 'string' || !/^\s*(query|mutation|subscription)\b/.test(value)) continue;
    documents[createHash('sha256').update(value, 'utf8').digest('hex')] = value;
  }
  return documents;
}
