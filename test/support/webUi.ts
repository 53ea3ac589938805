// Builds the web UI from web/src into a temporary directory, once per test file, for the server to serve.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { buildWebUi } from '../../web/build.mjs';

export interface BuiltWebUi {
  directory: string;
  /** The files written: the page and its hashed script and style (with maps and licences). */
  files: string[];
  remove(): void;
}

/** The UI as `npm run build` makes it, from the sources as they are now. */
export async function buildTestWebUi(): Promise<BuiltWebUi> {
  const root = mkdtempSync(join(tmpdir(), 'tagraph-web-'));
  const directory = join(root, 'web');
  const files = await buildWebUi(esbuild, directory);
  return { directory, files, remove: () => rmSync(root, { recursive: true, force: true }) };
}
