// Scenario: webhook delivery to 100 local HTTP targets of 1,000 tag changes: deliveries/s, p99 commit→delivery, and the ratio to a plain POST loop.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pLimit from 'p-limit';
import { Agent, request } from 'undici';
import { createBenchDatabase } from './lib/db.ts';
import { printTable, quantile, round, writeResults } from './lib/stats.ts';
import { startTagraph } from './lib/tagraph.ts';

const TARGETS = Number(process.env.BENCH_WEBHOOK_TARGETS ?? 100);
const CHANGES = Number(process.env.BENCH_WEBHOOK_CHANGES ?? 1000);
/** Targets delivered to at once: tagraph's TAGRAPH_WEBHOOK_CONCURRENCY and the plain loop's. */
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 16);
/** Mutations in flight while the changes are committed. */
const WRITERS = 8;
const NS = 'hooks';

interface Target {
  url: string;
  server: Server;
  /** Arrival time (performance.now()) per tag, and the bodies in arrival order. */
  arrivals: Map<string, number>;
  bodies: string[];
  count: number;
}

async function startTarget(): Promise<Target> {
  const target = { arrivals: new Map(), bodies: [], count: 0 } as unknown as Target;
  target.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      target.count += 1;
      const tag = (JSON.parse(body) as { tag?: string }).tag;
      if (tag && !target.arrivals.has(tag)) target.arrivals.set(tag, performance.now());
      target.bodies.push(body);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((done) => target.server.listen(0, '127.0.0.1', done));
  target.url = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}/hook`;
  return target;
}

const database = await createBenchDatabase('webhooks');
const tagraph = await startTagraph({
  databaseUrl: database.url,
  env: {
    TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
    TAGRAPH_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    TAGRAPH_WEBHOOK_POLL_MS: '200',
  },
});
const targets: Target[] = [];
try {
  for (let i = 0; i < TARGETS; i++) targets.push(await startTarget());
  for (const [i, target] of targets.entries()) {
    await tagraph.graphql(
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename } }`,
      { input: { namespace: NS, name: `t${i}`, url: target.url, format: 'JSON' } },
    );
  }

  // Commit the changes; a change's commit time is when its mutation answered.
  const committed = new Map<string, number>();
  const writers = pLimit(WRITERS);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CHANGES }, (_, i) =>
      writers(async () => {
        const tag = `c${i}`;
        const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
        await tagraph.graphql(
          `mutation($input: CreateImageStreamMappingInput!) { createImageStreamMapping(input: $input) { __typename } }`,
          {
            input: {
              namespace: NS,
              stream: 'app',
              tag,
              image: { digest, mediaType: 'x', dockerImageReference: `r.test/${NS}/app@${digest}` },
            },
          },
        );
        committed.set(tag, performance.now());
      }),
    ),
  );
  const writesDone = performance.now();
  const total = TARGETS * CHANGES;
  while (targets.reduce((sum, t) => sum + t.arrivals.size, 0) < total) {
    await new Promise((done) => setTimeout(done, 50));
  }
  const lastArrival = Math.max(...targets.flatMap((t) => [...t.arrivals.values()]));
  const latencies = targets.flatMap((t) =>
    [...t.arrivals.entries()].map(([tag, at]) => at - committed.get(tag)!),
  );
  // Per target, the event positions must rise (cursors are base64url `event:<position>`).
  const position = (body: string) =>
    Number(
      Buffer.from((JSON.parse(body) as { cursor: string }).cursor, 'base64url')
        .toString()
        .slice('event:'.length),
    );
  const inOrder = targets.every((t) =>
    t.bodies.every((b, i) => i === 0 || position(b) > position(t.bodies[i - 1]!)),
  );
  const duplicates = targets.reduce((sum, t) => sum + t.count - t.arrivals.size, 0);
  const tagraphSeconds = (lastArrival - started) / 1000;

  // Baseline: the same bodies POSTed by a plain loop, in order per target, as many targets at once.
  const agent = new Agent({ connections: 8 });
  const bodies = targets.map((t) => t.bodies.slice(0, CHANGES));
  for (const t of targets) t.count = 0;
  const loop = pLimit(CONCURRENCY);
  const loopStart = performance.now();
  await Promise.all(
    targets.map((t, i) =>
      loop(async () => {
        for (const body of bodies[i]!) {
          const response = await request(t.url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
            dispatcher: agent,
          });
          await response.body.dump();
        }
      }),
    ),
  );
  const loopSeconds = (performance.now() - loopStart) / 1000;
  await agent.close();

  const rows = [
    {
      measure: `${TARGETS} targets × ${CHANGES} changes`,
      'tagraph deliveries/s': round(total / tagraphSeconds, 1),
      'commit→delivery p50 ms': round(quantile(latencies, 0.5), 1),
      'p99 ms': round(quantile(latencies, 0.99), 1),
      'plain loop POSTs/s': round(total / loopSeconds, 1),
      ratio: `${round(total / tagraphSeconds / (total / loopSeconds), 2)}×`,
      'in order': inOrder,
      duplicates,
      'writes s': round((writesDone - started) / 1000, 2),
    },
  ];
  printTable(`webhook delivery (concurrency ${CONCURRENCY}, ${WRITERS} writers)`, rows);
  await writeResults('webhooks', { targets: TARGETS, changes: CHANGES, rows });
} finally {
  await tagraph.stop();
  await Promise.all(targets.map((t) => new Promise((done) => t.server.close(done))));
  await database.drop();
}
