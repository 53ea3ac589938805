// Measuring entrants (queries, servers) against each other in one run: statements per request,
// and rounds of load with CPU per request, rotating who goes first.
import type { LoadResult } from './load.ts';
import { withCpuPerOperation } from './processes.ts';
import { collect, round } from './stats.ts';

/** A load's result with the CPU per request of the server process and of Postgres. */
export type Measured = LoadResult & { serverCpuMs: number; postgresCpuMs: number };

/** The numbers of a measured run that the medians are taken of. */
export const pick = (r: Measured) => ({
  rps: r.rps,
  p50: r.p50,
  p99: r.p99,
  serverCpuMs: r.serverCpuMs,
  postgresCpuMs: r.postgresCpuMs,
});

/** Statements per request: how far `counter` moves over 20 sequential `send`s, divided by 20. */
export async function statementsPerRequest(
  counter: () => Promise<number>,
  send: () => Promise<unknown>,
): Promise<number> {
  const before = await counter();
  for (let i = 0; i < 20; i++) await send();
  return ((await counter()) - before) / 20;
}

export interface Entrant {
  /** Where its runs are collected, and the start of its progress line. */
  key: string;
  label: string;
  /** The server process whose CPU counts (null: none). */
  pid: number | null;
  load: (durationSeconds: number) => Promise<LoadResult>;
}

/**
 * Warms every entrant up, then runs `rounds` rounds of each, rotating who goes first so drift
 * (caches, vacuum, thermal) hits all alike; logs every run and collects it into `runs`.
 */
export async function measureRounds(
  entrants: Entrant[],
  options: {
    rounds: number;
    warmupSeconds: number;
    durationSeconds: number;
    /** Count only this database's Postgres backends (see withCpuPerOperation). */
    database?: string;
  },
  runs: Record<string, Measured[]>,
): Promise<void> {
  for (const entrant of entrants) await entrant.load(options.warmupSeconds);
  for (let r0 = 0; r0 < options.rounds; r0++) {
    const order = entrants.map((_, i) => entrants[(i + r0) % entrants.length]!);
    for (const entrant of order) {
      const result = await withCpuPerOperation(
        entrant.pid,
        () => entrant.load(options.durationSeconds),
        options.database,
      );
      collect(runs, entrant.key, result);
      console.log(
        `  ${entrant.label} round ${r0 + 1}: ${round(result.rps, 1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms; CPU per request: server ${round(result.serverCpuMs)} ms, Postgres ${round(result.postgresCpuMs)} ms`,
      );
    }
  }
}
