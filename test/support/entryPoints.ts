// The files `npm run build` writes to run (dist/<name>.js), read from esbuild.config.mjs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `dist/main.js` and the rest: one per key of the build's `entryPoints` object. */
export async function buildEntryPoints(root: string): Promise<string[]> {
  const text = await readFile(join(root, 'esbuild.config.mjs'), 'utf8');
  const block = /const entryPoints = \{([\s\S]*?)\n\};/.exec(text)?.[1];
  if (!block) throw new Error('esbuild.config.mjs: no `const entryPoints = { … }` found');
  const names = [...block.matchAll(/^\s*(\w+):\s*['"`]/gm)].map((match) => match[1]!);
  if (names.length === 0) throw new Error('esbuild.config.mjs: entryPoints is empty');
  return names.map((name) => `dist/${name}.js`);
}
