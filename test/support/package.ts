// Stages tagraph as it ships: the files `npm pack` would publish, with dist/ freshly built.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

export interface StagedPackage {
  /** The package directory: package.json, dist/, drizzle/, … */
  dir: string;
  remove(): void;
}

/** What `npm pack` publishes, by path, leaving out dist/ (the stage builds its own). */
export async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPOSITORY,
  });
  const [manifest] = JSON.parse(stdout) as { files: { path: string }[] }[];
  if (!manifest) throw new Error(`npm pack --dry-run printed nothing useful:\n${stdout}`);
  return manifest.files.map((file) => file.path).filter((path) => !path.startsWith('dist/'));
}

/**
 * A package directory holding the published files and a build of the current sources. With
 * `linkDependencies`, node_modules links to the repository's (dev dependencies included), for
 * tests about the process, not the install.
 */
export async function stagePackage(
  options: { linkDependencies?: boolean } = {},
): Promise<StagedPackage> {
  const root = mkdtempSync(join(tmpdir(), 'tagraph-package-'));
  const dir = join(root, 'package');
  for (const path of await packedFiles()) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    cpSync(join(REPOSITORY, path), join(dir, path));
  }
  await run(process.execPath, [
    join(REPOSITORY, 'esbuild.config.mjs'),
    '--outdir',
    join(dir, 'dist'),
  ]);
  if (options.linkDependencies) {
    symlinkSync(join(REPOSITORY, 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
