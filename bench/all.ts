// `npm run bench`: every scenario in turn, each in its own process so none inherits another's heap.
import { join } from 'node:path';
import { ROOT, spawnNode } from './lib/processes.ts';

const SCENARIOS = ['query', 'writes', 'import', 'subscriptions'];

let failed = 0;
for (const scenario of SCENARIOS) {
  console.log(`\n=== ${scenario} ===`);
  const child = spawnNode(join(ROOT, `bench/${scenario}.ts`));
  child.child.stdout?.pipe(process.stdout);
  child.child.stderr?.pipe(process.stderr);
  const code = await child.exited;
  if (code !== 0) {
    failed += 1;
    console.error(`${scenario} failed (exit ${code})`);
  }
}
process.exit(failed ? 1 : 0);
