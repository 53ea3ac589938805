// Bundles the web UI (web/src) into `<outdir>`: hashed script and style files and the page naming them.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const root = import.meta.dirname;

/**
 * Builds the UI with `esbuild` (the caller's, so one compiler serves the whole build) for the
 * browsers of the last few years. Every dependency is bundled: the page loads nothing from
 * another origin. Returns the names of the files written.
 */
export async function buildWebUi(esbuild, outdir) {
  const result = await esbuild.build({
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
