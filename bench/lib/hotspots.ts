// Prints the top self-time functions of a V8 CPU profile (`node --cpu-prof`), grouped by function
// and file: `node --import tsx bench/lib/hotspots.ts <file.cpuprofile> [count]`.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, countArg] = process.argv.slice(2);
if (!file) throw new Error('usage: hotspots.ts <file.cpuprofile> [count]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const packages = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  const pkg = url.includes('/node_modules/')
    ? url.replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
    : url.startsWith('file://')
      ? url.replace(/^file:\/\/\/work\/main\/([^/]+\/[^/]+).*$/, '$1')
      : functionName.startsWith('(')
        ? functionName
        : 'node internals';
  packages.set(pkg, (packages.get(pkg) ?? 0) + dt);
});
const top = (map: Map<string, number>, n: number) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby package / folder:\n${top(packages, 12)}`,
);
console.log(`\nby function (self time):\n${top(self, Number(countArg ?? 25))}`);
