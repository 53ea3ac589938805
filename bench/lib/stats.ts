// Medians, the printed table and the JSON file every scenario ends with.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at quantile q (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Median of each numeric field over repeated runs of the same measurement. */
export function medianOf<T extends Record<string, number>>(runs: T[]): T {
  const keys = Object.keys(runs[0] ?? {}) as (keyof T)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k] as number))])) as T;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export type Row = Record<string, string | number | boolean | null>;

/** Prints rows as an aligned text table (the same columns as RESULTS.md). */
export function printTable(title: string, rows: Row[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string] | undefined) =>
    v === undefined || v === null ? '' : typeof v === 'number' ? String(round(v)) : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

/** Writes `bench/results/<scenario>-<timestamp>.json` with the machine and returns its path. */
export async function writeResults(scenario: string, data: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(RESULTS_DIR, `${scenario}-${stamp}.json`);
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemGiB: round(totalmem() / 2 ** 30, 1),
    freeMemGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    /** Other work on the machine skews absolute figures (ratios less so): recorded with each run. */
    loadAverage: loadavg().map((v) => round(v, 2)),
  };
  await writeFile(
    path,
    `${JSON.stringify({ scenario, at: new Date(), machine, data }, null, 2)}\n`,
  );
  console.log(`\nwrote ${path}`);
  return path;
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Appends `value` to the list under `key`, creating it. */
export function collect<T>(lists: Record<string, T[]>, key: string, value: T): void {
  const list = lists[key] ?? [];
  list.push(value);
  lists[key] = list;
}
