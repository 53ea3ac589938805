// Runs autocannon in its own process (see loadgen.ts) and returns its figures.
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './loadgen.ts';
import { ROOT, runToResult, spawnNode } from './processes.ts';

export type { LoadResult, LoadSpec };

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = spawnNode(join(ROOT, 'bench/lib/loadgen.ts'));
  child.child.send(spec);
  const result = await runToResult<LoadResult>(child);
  const bad = result.non2xx + result.errors + result.mismatches;
  if (bad > 0) {
    console.warn(
      `  warning: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.mismatches} unexpected bodies of ${result.total} (a 401 means startTagraph needs an auth token)`,
    );
  }
  return result;
}
