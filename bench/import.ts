// Scenario 3: the importer against a local docker-registry. 10,000 unchanged scheduled tags
// (HEAD checks/s) and 1,000 new images (imports/s), each against a plain HTTP loop doing the same
// registry requests in the same run. The scheduler and worker run in this process, as `npm run
// worker` would run them; the registry and Postgres are separate processes. A second table gives
// the CPU each of the three spends per operation, from /proc: on two cores their sum bounds the
// rate.
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { createImporter } from '../src/importer/importer.ts';
import { MANIFEST_ACCEPT, pushImage } from '../test/support/images.ts';
import { startRegistry } from '../test/support/registry.ts';
import { createBenchDatabase } from './lib/db.ts';
import { cpuMsOf, postgresCpuMs } from './lib/processes.ts';
import { collect, median, printTable, type Row, round, sleep, writeResults } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCHEDULED = Number(process.env.BENCH_SCHEDULED_TAGS ?? 10_000);
const NEW_IMAGES = Number(process.env.BENCH_NEW_IMAGES ?? 1000);
const REPOS = 20;
/** Streams (and repositories) the new images are spread over; 1 puts them all behind one lock. */
const NEW_STREAMS = Number(process.env.BENCH_NEW_STREAMS ?? 20);
const newStream = (i: number) => `new${i % NEW_STREAMS}`;
const NS = 'imp';
const SECRET = 'be'.repeat(32);

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

/** CPU ms used so far by the registry, by Postgres, and by this process (scheduler or worker). */
interface CpuSample {
  registry: number;
  postgres: number;
  self: number;
}

async function cpuSample(registryPid: number): Promise<CpuSample> {
  const own = process.cpuUsage();
  return {
    registry: await cpuMsOf(registryPid),
    postgres: await postgresCpuMs(),
    self: (own.user + own.system) / 1000,
  };
}

/** CPU ms per operation of each party between two samples. */
function cpuPer(before: CpuSample, after: CpuSample, operations: number): CpuSample {
  const per = (key: keyof CpuSample) => (after[key] - before[key]) / operations;
  return { registry: per('registry'), postgres: per('postgres'), self: per('self') };
}

/**
 * Times `fn` and the CPU every party spent on it, per operation: the registry, Postgres and this
 * process. The machine has two cores, so the sum bounds the rate (bench/RESULTS.md, scenario 3).
 */
async function measured(
  registryPid: number,
  operations: number,
  fn: () => Promise<unknown>,
): Promise<{ perSecond: number; cpu: CpuSample }> {
  const before = await cpuSample(registryPid);
  const seconds = await timed(fn);
  const after = await cpuSample(registryPid);
  return { perSecond: operations / seconds, cpu: cpuPer(before, after, operations) };
}

export async function main() {
  const database = await createBenchDatabase('import');
  const registry = await startRegistry();
  const config = loadConfig({
    DATABASE_URL: database.url,
    TAGRAPH_SECRET_KEY: SECRET,
    TAGRAPH_IMPORT_CONCURRENCY: process.env.BENCH_IMPORT_CONCURRENCY ?? '4',
    // The SSRF guard refuses loopback registries unless allowed.
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
    // Unchanged tags: one image per repository, under SCHEDULED / REPOS tags each.
    const t0 = performance.now();
    const base: string[] = [];
    for (let r = 0; r < REPOS; r++) {
      const image = await pushImage(registry.url, `${NS}/r${r}`, 't0', { content: `base-${r}` });
      base.push(image.digest);
      const manifest = new Uint8Array(image.manifest);
      const tags = Array.from({ length: SCHEDULED / REPOS - 1 }, (_, i) => `t${i + 1}`);
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
    // New images: distinct content each, in their own repository.
    const fresh = Array.from({ length: NEW_IMAGES }, (_, i) => i);
    const freshDigests: string[] = [];
    await pool(fresh, 8, async (i) => {
      freshDigests[i] = (
        await pushImage(registry.url, `${NS}/${newStream(i)}`, `n${i}`, {
          content: `new-${i}`,
          config: { Env: [`N=${i}`] },
        })
      ).digest;
    });
    console.log(
      `pushed ${SCHEDULED} tags and ${NEW_IMAGES} images in ${round((performance.now() - t0) / 1000, 1)} s`,
    );

    await sql.unsafe(`
      insert into image_streams (namespace, name, annotations)
      select '${NS}', 'r' || r, '{"openshift.io/image.insecureRepository":"true"}'
      from generate_series(0, ${REPOS - 1}) r`);
    await sql.unsafe(`insert into image_streams (namespace, name)
      select '${NS}', 'new' || k from generate_series(0, ${NEW_STREAMS - 1}) k`);
    const baseByRepo = base.map((d, r) => `('r${r}', '${d}')`).join(', ');
    await sql.unsafe(`
      insert into tags (stream_id, name, from_kind, from_name, import_insecure, import_scheduled,
                        spec_generation, next_import_at, imported_source_digest)
      select st.id, 't' || i, 'DockerImage', '${registry.host}/${NS}/' || st.name || ':t' || i,
             true, true, 1, now(), b.digest
      from image_streams st join (values ${baseByRepo}) b(stream, digest) on b.stream = st.name,
           generate_series(0, ${SCHEDULED / REPOS - 1}) i
      where st.namespace = '${NS}'`);
    await sql.unsafe(`
      insert into tags (stream_id, name, from_kind, from_name, import_insecure, import_scheduled,
                        spec_generation)
      select st.id, 'n' || i, 'DockerImage', '${registry.host}/${NS}/' || st.name || ':n' || i,
             true, false, 1
      from generate_series(0, ${NEW_IMAGES - 1}) i
      join image_streams st on st.namespace = '${NS}' and st.name = 'new' || (i % ${NEW_STREAMS})`);
    await sql`analyze`;

    const refs = await sql<{ repo: string; tag: string }[]>`
      select st.name as repo, t.name as tag from tags t join image_streams st on st.id = t.stream_id
      where t.import_scheduled`;

    // Baselines: what the checks and imports must ask the registry, with nothing else around.
    const head = async ({ repo, tag }: { repo: string; tag: string }) => {
      const response = await fetch(`${registry.url}/v2/${NS}/${repo}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (!response.headers.get('docker-content-digest')) throw new Error('HEAD without digest');
      await response.arrayBuffer();
    };
    const fetchImage = async (i: number) => {
      const m = await fetch(`${registry.url}/v2/${NS}/${newStream(i)}/manifests/n${i}`, {
        headers: { accept: MANIFEST_ACCEPT },
      });
      const manifest = (await m.json()) as { config: { digest: string } };
      const c = await fetch(
        `${registry.url}/v2/${NS}/${newStream(i)}/blobs/${manifest.config.digest}`,
      );
      await c.arrayBuffer();
    };

    const pendingJobs = async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from import_jobs where status not in ('succeeded', 'failed')`;
      return row?.n ?? 0;
    };
    const runs: Record<string, number[]> = {};
    const cpuRuns: Record<string, CpuSample[]> = {};
    const registryPid = registry.pid();
    if (!registryPid) throw new Error('the registry process has no pid');
    const push = (key: string, value: number) => collect(runs, key, value);
    const concurrency = config.importConcurrency;
    await pool(refs.slice(0, 500), 1, head); // warm-up
    for (let r0 = 0; r0 < ROUNDS; r0++) {
      // HEAD checks: every scheduled tag due now, digest unchanged.
      await sql`update tags set next_import_at = now() where import_scheduled`;
      let pass = { checked: 0, queued: 0 };
      const checks = await measured(registryPid, SCHEDULED, async () => {
        pass = await importer.scheduler.runOnce();
      });
      if (pass.checked !== SCHEDULED || pass.queued !== 0) {
        throw new Error(
          `scheduler pass: ${JSON.stringify(pass)} (expected ${SCHEDULED} checked, 0 queued)`,
        );
      }
      push('checksPerSecond', checks.perSecond);
      collect(cpuRuns, 'checks', checks.cpu);
      push('rawHeadSequential', refs.length / (await timed(() => pool(refs, 1, head))));
      const rawHeads = await measured(registryPid, refs.length, () => pool(refs, 8, head));
      push('rawHeadConcurrent8', rawHeads.perSecond);
      collect(cpuRuns, 'rawHeadConcurrent8', rawHeads.cpu);

      // New images: queue one import job per tag, then drain the queue with the worker.
      await sql`delete from import_jobs`;
      await sql`delete from tag_history where tag_id in (select t.id from tags t join image_streams s on s.id = t.stream_id where s.name like 'new%')`;
      await sql`delete from image_layers where image_digest in ${sql(freshDigests)}`;
      await sql`delete from images where digest in ${sql(freshDigests)}`;
      await sql`update tags set imported_source_digest = null from image_streams s
                where s.id = tags.stream_id and s.name like 'new%'`;
      await sql`insert into import_jobs (namespace, stream, request)
        select ${NS}, s.name, jsonb_build_object('tags', jsonb_build_array(t.name), 'cause', 'import')
        from tags t join image_streams s on s.id = t.stream_id where s.name like 'new%'
        order by t.id`;
      // The worker's own loop, as `npm run worker` runs it: it claims a job as soon as one of
      // its `concurrency` slots frees, so fetching and writing overlap across jobs.
      const imports = await measured(registryPid, NEW_IMAGES, async () => {
        await importer.worker.start();
        while ((await pendingJobs()) > 0) await sleep(20);
        await importer.worker.stop();
      });
      const [{ imported } = { imported: 0 }] = await sql<{ imported: number }[]>`
        select count(*)::int as imported from import_jobs where status = 'succeeded'`;
      const [{ images } = { images: 0 }] = await sql<{ images: number }[]>`
        select count(*)::int as images from images where digest in ${sql(freshDigests)}`;
      if (imported !== NEW_IMAGES || images !== NEW_IMAGES) {
        const [failed] =
          await sql`select last_error, result from import_jobs where status <> 'succeeded' limit 1`;
        throw new Error(`imported ${imported} jobs, ${images} images: ${JSON.stringify(failed)}`);
      }
      push('importsPerSecond', imports.perSecond);
      collect(cpuRuns, 'imports', imports.cpu);
      const rawFetches = await measured(registryPid, NEW_IMAGES, () =>
        pool(fresh, concurrency, fetchImage),
      );
      push('rawFetchConcurrent', rawFetches.perSecond);
      collect(cpuRuns, 'rawFetchConcurrent', rawFetches.cpu);
      console.log(
        `  round ${r0 + 1}: ${round(checks.perSecond)} checks/s (raw HEAD ${round(runs.rawHeadSequential!.at(-1)!)}/s sequential), ${round(imports.perSecond)} imports/s (raw GETs ${round(runs.rawFetchConcurrent!.at(-1)!)}/s)`,
      );
    }

    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
    const rows: Row[] = [
      {
        measure: `HEAD checks, ${SCHEDULED} unchanged scheduled tags`,
        'tagraph /s': round(m.checksPerSecond!, 1),
        'baseline /s': round(m.rawHeadSequential!, 1),
        baseline: 'plain HEAD loop, sequential (as the scheduler)',
        ratio: `${round(m.checksPerSecond! / m.rawHeadSequential!)}×`,
        target: '≥ 1000/s',
        met: m.checksPerSecond! >= 1000 ? 'met' : 'MISSED',
      },
      {
        measure: 'same, baseline with 8 in flight',
        'tagraph /s': round(m.checksPerSecond!, 1),
        'baseline /s': round(m.rawHeadConcurrent8!, 1),
        baseline: 'plain HEAD loop, 8 concurrent',
        ratio: `${round(m.checksPerSecond! / m.rawHeadConcurrent8!)}×`,
        target: '',
        met: '',
      },
      {
        measure: `imports, ${NEW_IMAGES} new images in ${NEW_STREAMS} streams (worker concurrency ${concurrency})`,
        'tagraph /s': round(m.importsPerSecond!, 1),
        'baseline /s': round(m.rawFetchConcurrent!, 1),
        baseline: `GET manifest + config blob, ${concurrency} concurrent`,
        ratio: `${round(m.importsPerSecond! / m.rawFetchConcurrent!)}×`,
        target: '≥ 200/s',
        met: m.importsPerSecond! >= 200 ? 'met' : 'MISSED',
      },
    ];
    printTable(`Scenario 3 — import, median of ${ROUNDS} rounds`, rows);
    const cpu = Object.fromEntries(
      Object.entries(cpuRuns).map(([key, samples]) => [
        key,
        {
          registry: median(samples.map((c) => c.registry)),
          postgres: median(samples.map((c) => c.postgres)),
          self: median(samples.map((c) => c.self)),
        },
      ]),
    ) as Record<string, CpuSample>;
    const cpuRow = (label: string, key: string): Row => {
      const c = cpu[key]!;
      const total = c.registry + c.postgres + c.self;
      return {
        'per operation': label,
        'registry ms': round(c.registry, 2),
        'Postgres ms': round(c.postgres, 2),
        'bench process ms': round(c.self, 2),
        'total ms': round(total, 2),
        // Two cores: no rate above this, however the work were scheduled.
        'CPU ceiling /s': Math.round((2 * 1000) / total),
      };
    };
    printTable('CPU per operation (median; registry, Postgres and the bench process)', [
      cpuRow('check (scheduler)', 'checks'),
      cpuRow('raw HEAD, 8 in flight', 'rawHeadConcurrent8'),
      cpuRow(`import (worker, concurrency ${concurrency})`, 'imports'),
      cpuRow(`raw GET manifest + config, ${concurrency} in flight`, 'rawFetchConcurrent'),
    ]);
    await writeResults('import', {
      scheduled: SCHEDULED,
      newImages: NEW_IMAGES,
      newStreams: NEW_STREAMS,
      concurrency,
      runs,
      cpuRuns,
      medians: m,
      cpuMedians: cpu,
      rows,
    });
  } finally {
    await importer.stop(1000);
    await db.close();
    await registry.stop();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
