// Scenario 2: graphql-ws fan-out of `tagChanged` to 1,000 and 10,000 subscribers on one gateway,
// against a bare `ws` broadcast server (lib/broadcast.ts) with the same clients, in the same run.
import { join } from 'node:path';
import { createBenchDatabase } from './lib/db.ts';
import { firstMessage, ROOT, rssOf, type Spawned, spawnNode } from './lib/processes.ts';
import { seedGraph } from './lib/seed.ts';
import { median, printTable, quantile, type Row, round, sleep, writeResults } from './lib/stats.ts';
import type { SubscriberCommand, SubscriberMode } from './lib/subscribers.ts';
import { type RunningTagraph, startTagraph } from './lib/tagraph.ts';

const SIZES = (process.env.BENCH_SUBSCRIBERS ?? '1000,10000').split(',').map(Number);
const CLIENT_PROCESSES = 4;
const TRIALS = Number(process.env.BENCH_ROUNDS ?? 3) + 2;
/** Changes per second offered in the sustained run (BENCH_SUSTAINED_RATE). */
const SUSTAINED_RATE = Number(process.env.BENCH_SUSTAINED_RATE ?? 500);
const SUSTAINED_SECONDS = Number(process.env.BENCH_SUSTAINED_SECONDS ?? 5);
const NS = 'subs';
/** tagraph's subscribers: the graphql-ws client library, or the bare protocol (BENCH_SUBSCRIBER_CLIENT). */
const CLIENT_MODE = (process.env.BENCH_SUBSCRIBER_CLIENT ?? 'protocol') as SubscriberMode;
/**
 * How many different callers tagraph's subscribers belong to (BENCH_SUBSCRIBER_CALLERS): one
 * caller's identical subscriptions share one execution, different callers' never do.
 */
const CALLERS = (process.env.BENCH_SUBSCRIBER_CALLERS ?? '1,100').split(',').map(Number);

type Reply = { ok?: boolean; received?: number; samples?: number[]; cutOff?: number };

/** Subscriber processes sharing `total` connections. */
async function fleet(
  mode: SubscriberMode,
  url: string,
  total: number,
  headers: Record<string, string>,
  authorizations: string[] = [headers.authorization!],
) {
  const children: Spawned[] = [];
  for (let i = 0; i < CLIENT_PROCESSES; i++) {
    const child = spawnNode(join(ROOT, 'bench/lib/subscribers.ts'));
    child.child.stdout?.resume();
    children.push(child);
  }
  const ask = (command: SubscriberCommand) =>
    Promise.all(
      children.map((child) => {
        const reply = firstMessage<Reply>(child, 300_000);
        child.child.send(command);
        return reply;
      }),
    );
  let first = 0;
  await Promise.all(
    children.map((child, i) => {
      const reply = firstMessage<Reply>(child, 300_000);
      const count = Math.floor(total / CLIENT_PROCESSES) + (i < total % CLIENT_PROCESSES ? 1 : 0);
      child.child.send({
        cmd: 'open',
        mode,
        url,
        count,
        headers,
        authorizations,
        first,
        namespace: NS,
      } satisfies SubscriberCommand);
      first += count;
      return reply;
    }),
  );
  return {
    ask,
    /** Waits until `expected` messages arrived (or the timeout); returns every sample. */
    async gather(expected: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const replies = await ask({ cmd: 'collect' });
        const received = replies.reduce((n, r) => n + (r.received ?? 0), 0);
        if (received >= expected || Date.now() > deadline) {
          const cutOff = replies.reduce((n, r) => n + (r.cutOff ?? 0), 0);
          return { received, cutOff, samples: replies.flatMap((r) => r.samples ?? []) };
        }
        await sleep(50);
      }
    },
    async close() {
      await ask({ cmd: 'close' }).catch(() => {});
      await Promise.all(children.map((c) => c.stop(2000)));
    },
  };
}

const now = () => performance.timeOrigin + performance.now();

/**
 * One sustained round: `fire(i)` at SUSTAINED_RATE for SUSTAINED_SECONDS (at most 4 in flight),
 * then what arrived within 60 s; latency is measured against each message's own time.
 */
async function sustainedRound(
  clients: Awaited<ReturnType<typeof fleet>>,
  fire: (i: number) => Promise<unknown>,
): Promise<Record<string, number>> {
  await clients.ask({ cmd: 'arm', sentAt: null });
  const total = SUSTAINED_RATE * SUSTAINED_SECONDS;
  const started = now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / SUSTAINED_RATE - now();
    if (wait > 1) await sleep(wait);
    const p = fire(i);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 4) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const writeSeconds = (now() - started) / 1000;
  const { received, samples, cutOff } = await clients.gather(total * 1000, 60_000);
  return {
    changesPerSecond: total / writeSeconds,
    delivered: received / (total * 1000),
    cutOff,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    max: samples.reduce((a, b) => Math.max(a, b), 0),
  };
}

/** `count` callers' authorization headers: the admin alone, or users who may read NS. */
async function callerTokens(tagraph: RunningTagraph, count: number): Promise<string[]> {
  if (count <= 1) return [tagraph.headers.authorization!];
  await tagraph.graphql(
    `mutation { addRoleBinding(input: { namespace: "${NS}", role: IMAGE_PULLER, subjectKind: Group,
      subjectName: "bench-watchers" }) { __typename } }`,
  );
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await tagraph.graphql<{ createToken: { token: string } }>(
      `mutation($subject: String!) { createToken(input: { subject: $subject,
        groups: ["bench-watchers"] }) { ... on CreateTokenPayload { token } } }`,
      { subject: `watcher-${i}` },
    );
    tokens.push(`Bearer ${created.createToken.token}`);
  }
  return tokens;
}

export async function main() {
  const database = await createBenchDatabase('subscriptions');
  const tagraph = await startTagraph({
    databaseUrl: database.url,
    cpuProfDir: process.env.BENCH_PROFILE_DIR,
  });
  const broadcast = spawnNode(join(ROOT, 'bench/lib/broadcast.ts'));
  try {
    await seedGraph(database.sql, {
      namespace: NS,
      streams: 2,
      tagsPerStream: 1,
      historyPerTag: 1,
      images: 1,
    });
    const { port } = await firstMessage<{ port: number }>(broadcast);
    let change = 0;
    const tagChange = () =>
      tagraph.graphql(
        `mutation($source: String!) { tag(input: { namespace: "${NS}", source: $source, destinations: ["s0000:t00"], reference: true }) { __typename } }`,
        { source: `quay.io/bench/app:${++change}` },
      );
    await tagChange();
    const bare = {
      name: 'bare ws',
      mode: 'raw' as const,
      url: `ws://127.0.0.1:${port}`,
      pid: broadcast.child.pid!,
      authorizations: undefined,
      fire: () =>
        fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST' }).then((r) => r.text()),
    };
    const tagraphs = [];
    for (const callers of CALLERS) {
      tagraphs.push({
        name: callers === 1 ? 'tagraph' : `tagraph, ${callers} callers`,
        mode: CLIENT_MODE,
        url: tagraph.wsUrl,
        pid: tagraph.pid,
        authorizations: await callerTokens(tagraph, callers),
        fire: tagChange,
      });
    }
    const servers = [...tagraphs, bare];

    const results: Record<string, Record<string, number>> = {};
    for (const size of SIZES) {
      for (const server of servers) {
        const name = server.name;
        await sleep(1000);
        const rssBefore = await rssOf(server.pid);
        const opened = now();
        const clients = await fleet(
          server.mode,
          server.url,
          size,
          tagraph.headers,
          server.authorizations,
        );
        const connectSeconds = (now() - opened) / 1000;
        await sleep(3000);
        const rssAfter = await rssOf(server.pid);
        const trials: { p50: number; p99: number; max: number; delivered: number }[] = [];
        for (let t = 0; t < TRIALS; t++) {
          await clients.ask({ cmd: 'arm', sentAt: 0 });
          const sent = now();
          await server.fire();
          const { received, samples } = await clients.gather(size, 30_000);
          const latencies = samples.map((at) => at - sent);
          trials.push({
            p50: quantile(latencies, 0.5),
            p99: quantile(latencies, 0.99),
            max: latencies.reduce((a, b) => Math.max(a, b), 0),
            delivered: received / size,
          });
          await sleep(200);
        }
        const measured = trials.slice(1); // the first trial warms up
        results[`${name}_${size}`] = {
          subscribers: size,
          connectSeconds,
          rssPerSubscriberKB: (rssAfter - rssBefore) / size / 1024,
          p50: median(measured.map((t) => t.p50)),
          p99: median(measured.map((t) => t.p99)),
          max: median(measured.map((t) => t.max)),
          delivered: Math.min(...measured.map((t) => t.delivered)),
        };
        console.log(
          `  ${name} ${size}:`,
          JSON.stringify(results[`${name}_${size}`], (_, v) =>
            typeof v === 'number' ? round(v, 2) : v,
          ),
        );
        await clients.close();
      }
    }

    // Sustained: 500 changes/s to 1,000 subscribers. tagraph's changes are written as a write
    // transaction writes its event (insert, NOTIFY; the server sequences it), straight in SQL — the `tag`
    // mutation itself tops out lower (scenario 4), and this measures the fan-out. The bare ws
    // server gets a POST /broadcast per change at the same pace: the floor for this machine.
    const sustained: Record<string, Record<string, number>[]> = { tagraph: [], 'bare ws': [] };
    // BENCH_SUSTAINED_SECONDS=0 skips it (for a quick profile of the one-change fan-out).
    if (SUSTAINED_SECONDS > 0) {
      const writeEvent = (i: number) =>
        database.sql.begin(async (tx) => {
          await tx`insert into events (namespace, stream, tag, type, cause, payload)
            values (${NS}, 's0000', 't00', 'UPDATED', 'tag',
              ${tx.json({ previous: null, current: { digest: null, dockerImageReference: `quay.io/bench/app:s${i}` } })})`;
          await tx`select pg_notify('tagraph_events', '')`;
        });
      const post = () =>
        fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST' }).then((r) => r.text());
      for (const [name, server, fire] of [
        ['tagraph', tagraphs[0]!, writeEvent],
        ['bare ws', bare, post],
      ] as const) {
        // A fresh fleet each round: subscribers cut off as too slow in one round stay gone.
        for (let r0 = 0; r0 < 3; r0++) {
          const clients = await fleet(
            server.mode,
            server.url,
            1000,
            tagraph.headers,
            server.authorizations,
          );
          await sleep(2000);
          const row = await sustainedRound(clients, fire);
          sustained[name]!.push(row);
          console.log(
            `  sustained ${name}:`,
            JSON.stringify(row, (_, v) => (typeof v === 'number' ? round(v, 3) : v)),
          );
          await clients.close();
          await sleep(1000);
        }
      }
    }

    const rows: Row[] = [];
    for (const size of SIZES) {
      const b = results[`bare ws_${size}`]!;
      for (const server of servers) {
        const r = results[`${server.name}_${size}`]!;
        const isTagraph = server !== bare;
        const met =
          size >= 10_000 ? (r.p99! < 250 && r.rssPerSubscriberKB! < 40 ? 'met' : 'MISSED') : '';
        rows.push({
          subscribers: size,
          server: server.name,
          'p50 ms': round(r.p50!, 1),
          'p99 ms': round(r.p99!, 1),
          'max ms': round(r.max!, 1),
          delivered: `${round(r.delivered! * 100, 1)}%`,
          // RSS growth means little for a variant run after another on the same server: it
          // reuses the heap the previous one grew (and RSS does not shrink).
          'KB/idle sub':
            server === tagraphs[0] || !isTagraph ? round(r.rssPerSubscriberKB!, 1) : '',
          'p99 vs bare ws': isTagraph ? `${round(r.p99! / b.p99!, 1)}×` : '1×',
          'target (10k: p99<250, <40KB)': isTagraph ? met : '',
        });
      }
    }
    const sustainedMedian: Record<string, Record<string, number>> = {};
    for (const [name, runs] of Object.entries(sustained)) {
      if (runs.length === 0) continue;
      const m = (key: string) => median(runs.map((r) => r[key]!));
      const s = { changesPerSecond: m('changesPerSecond'), delivered: m('delivered') };
      const cutOff = m('cutOff');
      sustainedMedian[name] = { ...s, cutOff, p50: m('p50'), p99: m('p99'), max: m('max') };
      rows.push({
        subscribers: 1000,
        server: `${name}, ${round(s.changesPerSecond, 0)} changes/s sustained`,
        'p50 ms': round(sustainedMedian[name]!.p50!, 1),
        'p99 ms': round(sustainedMedian[name]!.p99!, 1),
        'max ms': round(sustainedMedian[name]!.max!, 1),
        delivered: `${round(s.delivered * 100, 1)}%${cutOff ? `, ${cutOff} cut off as too slow` : ''}`,
      });
    }
    printTable(
      `Scenario 2 — subscription fan-out (one change; median of ${TRIALS - 1} trials)`,
      rows,
    );
    await writeResults('subscriptions', {
      sizes: SIZES,
      clientProcesses: CLIENT_PROCESSES,
      results,
      sustained,
      sustainedMedian,
      rows,
    });
  } finally {
    await broadcast.stop();
    await tagraph.stop();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
