// The directory tagraph is installed in, found the same way from the sources and from the build.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Walks up from this module's own file to the `package.json` named `tagraph`: `src/` in a
 * checkout, `dist/` in a build or an installed package. Runtime files (the migrations) are
 * resolved from here, never from the caller's working directory.
 */
export function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let directory = start; ; directory = dirname(directory)) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'tagraph') {
      return directory;
    }
    if (dirname(directory) === directory) {
      throw new Error(`tagraph: no package.json of tagraph above ${start}`);
    }
  }
}

export const packageRoot = findPackageRoot();
