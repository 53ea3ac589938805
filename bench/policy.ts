// Policy tags: one scheduled pass over 1,000 policy tags spread over 100 repositories of 200 tags
// each in a local docker-registry, with nothing new (each winner and digest as last recorded).
// A counting proxy in front of the registry gives the registry requests per policy tag; two
// plain HTTP loops through the same proxy give the baselines: one lists the same repositories,
// the other does the same requests the pass needs (a list per repository, a HEAD per tag).
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { DEFAULT_POLICY_EXCLUSIONS } from '../src/domain/policyTags.ts';
import { createImporter } from '../src/importer/importer.ts';
import type { SchedulerPass } from '../src/importer/scheduler.ts';
import { MANIFEST_ACCEPT, pushImage } from '../test/support/images.ts';
import { startRegistry } from '../test/support/registry.ts';
import { createBenchDatabase } from './lib/db.ts';
import { collect, median, printTable, type Row, round, writeResults } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REPOS = Number(process.env.BENCH_POLICY_REPOS ?? 100);
const TAGS_PER_REPO = Number(process.env.BENCH_POLICY_REPO_TAGS ?? 200);
const POLICY_TAGS = Number(process.env.BENCH_POLICY_TAGS ?? 1000);
const PER_REPO = Math.ceil(POLICY_TAGS / REPOS);
/** The scheduler's HEAD checks in flight (src/importer/scheduler.ts), for the same-requests loop. */
const IN_FLIGHT = 8;
const NS = 'pol';
const SECRET = 'bd'.repeat(32);

/** Repository tag `i`: `1.<minor>.<patch>`, twenty patches per minor. */
const versionTag = (i: number) => `1.${Math.floor(i / 20)}.${i % 20}`;
const minors = Math.ceil(TAGS_PER_REPO / 20);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** A plain HTTP proxy to the registry that counts the requests it forwards, by kind. */
async function countingProxy(target: URL): Promise<{
  server: Server;
  url: string;
  host: string;
  counts: Map<string, number>;
}> {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const kind = path.includes('/tags/list')
      ? 'list'
      : path.includes('/manifests/')
        ? `${req.method} manifest`
        : path.includes('/blobs/')
          ? `${req.method} blob`
          : `${req.method} ${path.split('?')[0]}`;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, counts };
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

export async function main() {
  const database = await createBenchDatabase('policy');
  const registry = await startRegistry();
  const proxy = await countingProxy(new URL(registry.url));
  const config = loadConfig({
    DATABASE_URL: database.url,
    TAGRAPH_SECRET_KEY: SECRET,
    TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
  });
  const db = await openDatabase(config.database);
  const importer = createImporter(
    config,
    db,
    pino({ level: 'silent' }),
    Buffer.from(SECRET, 'hex'),
  );
  try {
    const sql = database.sql;
    await sql`insert into namespaces (name) values (${NS})`;
    // One manifest per repository under every tag: the listing is what policies read.
    const t0 = performance.now();
    const digests: string[] = [];
    for (let r = 0; r < REPOS; r++) {
      const image = await pushImage(registry.url, `${NS}/r${r}`, versionTag(0), {
        content: `policy-${r}`,
      });
      digests.push(image.digest);
      const manifest = new Uint8Array(image.manifest);
      const tags = Array.from({ length: TAGS_PER_REPO - 1 }, (_, i) => versionTag(i + 1));
      await pool(tags, 16, async (tag) => {
        const response = await fetch(`${registry.url}/v2/${NS}/r${r}/manifests/${tag}`, {
          method: 'PUT',
          headers: { 'content-type': image.mediaType },
          body: manifest,
        });
        if (response.status !== 201) throw new Error(`PUT ${tag}: ${response.status}`);
        await response.arrayBuffer();
      });
    }
    console.log(
      `pushed ${REPOS} repositories × ${TAGS_PER_REPO} tags in ${round((performance.now() - t0) / 1000, 1)} s`,
    );

    // Streams s<r>, each with PER_REPO policy tags p<k> following repository r by `~1.<k>`,
    // with the winner and digest already recorded: a pass finds nothing new.
    await sql.unsafe(`
      insert into image_streams (namespace, name, annotations)
      select '${NS}', 's' || r, '{"openshift.io/image.insecureRepository":"true"}'
      from generate_series(0, ${REPOS - 1}) r`);
    const rows: Record<string, unknown>[] = [];
    const streams = await sql<{ id: number; name: string }[]>`
      select id, name from image_streams where namespace = ${NS}`;
    for (const stream of streams) {
      const r = Number(stream.name.slice(1));
      for (let k = 0; k < PER_REPO && r * PER_REPO + k < POLICY_TAGS; k++) {
        const minor = k % minors;
        const winner = `1.${minor}.${Math.min(19, TAGS_PER_REPO - 1 - minor * 20)}`;
        rows.push({
          stream_id: stream.id,
          name: `p${k}`,
          from_kind: 'DockerImage',
          from_name: `${proxy.host}/${NS}/r${r}`,
          import_insecure: true,
          import_scheduled: true,
          spec_generation: 1,
          next_import_at: new Date(),
          imported_source_digest: digests[r]!,
          policy: {
            kind: 'semver',
            range: `~1.${minor}`,
            includePrerelease: false,
            exclude: [...DEFAULT_POLICY_EXCLUSIONS],
          },
          policy_evaluation: {
            evaluatedAt: new Date().toISOString(),
            listed: TAGS_PER_REPO,
            excluded: 0,
            filtered: 0,
            candidates: 0,
            top: [],
            winner,
            reason: 'seeded',
            digest: digests[r]!,
          },
        });
      }
    }
    for (let i = 0; i < rows.length; i += 500)
      await sql`insert into tags ${sql(rows.slice(i, i + 500))}`;
    await sql`analyze`;
    const policyTags = rows.length;

    const repositories = Array.from({ length: REPOS }, (_, r) => `${NS}/r${r}`);
    const list = async (repository: string) => {
      const response = await fetch(`${proxy.url}/v2/${repository}/tags/list`);
      const body = (await response.json()) as { tags: string[] };
      if (body.tags.length !== TAGS_PER_REPO) throw new Error(`listed ${body.tags.length} tags`);
    };
    const head = async (ref: { repository: string; tag: string }) => {
      const response = await fetch(`${proxy.url}/v2/${ref.repository}/manifests/${ref.tag}`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (!response.headers.get('docker-content-digest')) throw new Error('HEAD without digest');
      await response.arrayBuffer();
    };
    const heads = rows.map((row) => ({
      repository: String(row.from_name).slice(proxy.host.length + 1),
      tag: (row.policy_evaluation as { winner: string }).winner,
    }));

    const runs: Record<string, number[]> = {};
    const requests: Record<string, Record<string, number>> = {};
    await pool(repositories.slice(0, 10), 1, list); // warm-up
    for (let round0 = 0; round0 < ROUNDS; round0++) {
      await sql`update tags set next_import_at = now() where import_scheduled`;
      proxy.counts.clear();
      let pass: SchedulerPass = { checked: 0, queued: 0 };
      const passSeconds = await timed(async () => {
        pass = await importer.scheduler.runOnce();
      });
      if (pass.checked !== policyTags || pass.queued !== 0) {
        throw new Error(`pass ${JSON.stringify(pass)}: expected ${policyTags} checked, 0 queued`);
      }
      requests.pass = Object.fromEntries(proxy.counts);
      collect(runs, 'passSeconds', passSeconds);
      collect(runs, 'passRequests', total(proxy.counts));

      proxy.counts.clear();
      collect(runs, 'listSeconds', await timed(() => pool(repositories, 1, list)));
      collect(runs, 'listRequests', total(proxy.counts));

      proxy.counts.clear();
      const sameSeconds = await timed(async () => {
        await pool(repositories, 1, list);
        await pool(heads, IN_FLIGHT, head);
      });
      collect(runs, 'sameSeconds', sameSeconds);
      collect(runs, 'sameRequests', total(proxy.counts));
      console.log(
        `  round ${round0 + 1}: pass ${round(passSeconds, 2)} s (${runs.passRequests!.at(-1)} requests, ${pass.listed} listings), list loop ${round(runs.listSeconds!.at(-1)!, 2)} s, list+HEAD loop ${round(sameSeconds, 2)} s`,
      );
    }
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
    const table: Row[] = [
      {
        measure: `one scheduled pass, ${policyTags} policy tags, ${REPOS} repositories × ${TAGS_PER_REPO} tags`,
        seconds: round(m.passSeconds!, 2),
        'policy tags /s': round(policyTags / m.passSeconds!, 1),
        'registry requests': m.passRequests!,
        'requests / policy tag': round(m.passRequests! / policyTags, 3),
        'pass time ÷ this': '1×',
      },
      {
        measure: `plain loop listing the ${REPOS} repositories (sequential)`,
        seconds: round(m.listSeconds!, 2),
        'policy tags /s': '',
        'registry requests': m.listRequests!,
        'requests / policy tag': round(m.listRequests! / policyTags, 3),
        'pass time ÷ this': `${round(m.passSeconds! / m.listSeconds!, 2)}×`,
      },
      {
        measure: `plain loop, the same requests (lists, then ${policyTags} HEADs ${IN_FLIGHT} in flight)`,
        seconds: round(m.sameSeconds!, 2),
        'policy tags /s': round(policyTags / m.sameSeconds!, 1),
        'registry requests': m.sameRequests!,
        'requests / policy tag': round(m.sameRequests! / policyTags, 3),
        'pass time ÷ this': `${round(m.passSeconds! / m.sameSeconds!, 2)}×`,
      },
    ];
    printTable(`Policy tags — one scheduled pass, median of ${ROUNDS} rounds`, table);
    console.log('requests of the last pass by kind:', requests.pass);
    await writeResults('policy', {
      repos: REPOS,
      tagsPerRepo: TAGS_PER_REPO,
      policyTags,
      runs,
      medians: m,
      passRequestsByKind: requests.pass,
      rows: table,
    });
  } finally {
    await importer.stop(1000);
    await db.close();
    await new Promise((done) => proxy.server.close(done));
    await registry.stop();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
