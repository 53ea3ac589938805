// Import jobs against hostile registries: the byte budget, the children cap, the deadline and
// the tag-listing caps hold, the gateway keeps answering while they are hit, and one namespace's
// hanging imports leave the other slots to other namespaces.
import { request, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type HostileRegistry, startHostileRegistry } from '../support/hostileRegistry.ts';
import { type BuiltIndex, buildImage, buildIndex, pushImage } from '../support/images.ts';
import { enqueueAsEditor, getTagAsPuller, importAsEditor } from '../support/imports.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Long enough for the other imports here on a loaded machine, short enough to wait out. */
const DEADLINE_MS = 4000;

let app: TestApp;
let registry: HostileRegistry;
beforeAll(async () => {
  registry = await startHostileRegistry();
  app = await startTestApp({
    // Small budgets, so each attack is hit in well under a second of real work.
    importBudget: {
      maxChildren: 40,
      maxBytes: 1 * MiB,
      deadlineMs: DEADLINE_MS,
      maxListedTags: 5000,
      maxTagListBytes: 256 * KiB,
    },
    importMaxTags: 3,
  });
});
afterAll(async () => {
  await app?.stop();
  await registry?.stop();
});

const enqueueAs = enqueueAsEditor;
/** importImage as an editor of `namespace`, then the app's worker until nothing is due. */
const importAs = (namespace: string, input: Record<string, unknown>) =>
  importAsEditor(app, namespace, input);

/** Polls `read` every 25 ms until `done` holds or `ms` pass; returns the last value read. */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    value = await read();
  }
  return value;
}

const readTag = (namespace: string, ref: string) => getTagAsPuller(app, namespace, ref);

/** An index of `count` images, each with a config blob of about `configBytes`. */
function bigIndex(count: number, configBytes: number, seed: string): BuiltIndex {
  return buildIndex(
    Array.from({ length: count }, (_, i) => ({
      platform: { os: 'linux', architecture: `arch${i}` },
      spec: {
        content: `${seed} ${i}`,
        config: { Labels: { padding: `${seed}${i}`.padEnd(configBytes, 'x') } },
      },
    })),
  );
}

/** GETs /healthz every 25 ms while `work` runs; returns the slowest answer in ms and the count. */
async function healthzDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; worstMs: number; probes: number }> {
  let done = false;
  let worstMs = 0;
  let probes = 0;
  const probe = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      request(`${app.url}/healthz`, (res) => {
        res.resume();
        res.on('end', () => {
          expect(res.statusCode).toBe(200);
          worstMs = Math.max(worstMs, performance.now() - started);
          probes++;
          resolve();
        });
      })
        .on('error', reject)
        .end();
    });
  const prober = (async () => {
    while (!done) {
      await probe();
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    const result = await work();
    return { result, worstMs, probes };
  } finally {
    done = true;
    await prober;
  }
}

describe('the byte budget and the children cap of a preserved manifest list', () => {
  it('fails an index whose children add up past the job budget, reading no more than the budget', async () => {
    // 30 children of ~100 KiB: 3 MiB to read, three times the 1 MiB budget.
    const index = bigIndex(30, 100 * KiB, 'budget');
    registry.addIndex('huge', index);
    const heapBefore = process.memoryUsage().heapUsed;
    const requestsBefore = registry.requests.length;
    const job = await importAs('budget', {
      image: 'huge:v1',
      from: `${registry.host}/attack/huge:huge`,
      importMode: 'PreserveOriginal',
    });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.info(`budget: heap grew ${(heapGrowth / MiB).toFixed(1)} MiB during the import`);

    expect(job.status).toBe('failed');
    expect(job.images).toEqual([
      expect.objectContaining({ tag: 'v1', status: 'Failure', reason: 'TooLarge' }),
    ]);
    expect(job.images[0]!.message).toMatch(/budget of 1048576 bytes/);
    // ~10 configs fit in the budget; the rest of the index was never asked for.
    const blobs = registry.requests.slice(requestsBefore).filter((r) => r.kind === 'blob');
    expect(blobs.length).toBeLessThanOrEqual(11);
    const tag = await readTag('budget', 'huge:v1');
    expect(tag.image).toBeNull();
    expect(tag.history.nodes).toEqual([]);
    expect(tag.conditions).toEqual([
      expect.objectContaining({ type: 'ImportSuccess', status: 'False', reason: 'TooLarge' }),
    ]);
  });

  it('fails an index with more children than allowed before reading any of them', async () => {
    const index = bigIndex(41, 10, 'many');
    registry.addIndex('many', index);
    const requestsBefore = registry.requests.length;
    const job = await importAs('children', {
      image: 'many:v1',
      from: `${registry.host}/attack/many:many`,
      importMode: 'PreserveOriginal',
    });
    expect(job.status).toBe('failed');
    expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'TooLarge' });
    expect(job.images[0]!.message).toMatch(/has 41 manifests, over the limit of 40/);
    const after = registry.requests.slice(requestsBefore);
    const mine = after.filter((r) => r.path.startsWith('/v2/attack/many/'));
    expect(mine.map((r) => r.path)).toEqual(['/v2/attack/many/manifests/many']);
  });

  it('still imports an index within the budget, children first', async () => {
    const index = bigIndex(5, 10 * KiB, 'fits');
    registry.addIndex('fits', index);
    const job = await importAs('fits', {
      image: 'fits:v1',
      from: `${registry.host}/attack/fits:fits`,
      importMode: 'PreserveOriginal',
    });
    expect(job.status).toBe('succeeded');
    const tag = await readTag('fits', 'fits:v1');
    expect(tag.image?.digest).toBe(index.digest);
    expect(tag.conditions).toEqual([]);
  });
});

describe('the job deadline', () => {
  it('ends an import from a registry that trickles its answer, with a Timeout reason', async () => {
    const image = buildImage({ content: 'slow' });
    registry.addImage('slow', image);
    registry.override = (_req, res, request) => {
      if (request.kind !== 'manifest' || !request.path.endsWith('/manifests/slow')) return false;
      // Headers at once, then a byte every 100 ms: no per-read timeout ever fires.
      res.writeHead(200, {
        'content-type': image.mediaType,
        'content-length': image.manifest.length,
      });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= image.manifest.length) return clearInterval(timer);
        res.write(image.manifest.subarray(sent, sent + 1));
        sent++;
      }, 100);
      res.on('close', () => clearInterval(timer));
      return true;
    };
    try {
      const started = performance.now();
      const job = await importAs('deadline', {
        image: 'slow:v1',
        from: `${registry.host}/attack/slow:slow`,
      });
      const elapsed = performance.now() - started;
      console.info(`deadline: the import ended after ${Math.round(elapsed)} ms`);
      expect(elapsed).toBeLessThan(DEADLINE_MS + 3000);
      // Retryable: a slow registry may answer later; the attempt limit bounds the retries.
      expect(job).toMatchObject({ status: 'queued', attempts: 1 });
      expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'Timeout' });
      expect(job.images[0]!.message).toMatch(/deadline of 4 s/);
      const tag = await readTag('deadline', 'slow:v1');
      expect(tag.conditions).toEqual([
        expect.objectContaining({ type: 'ImportSuccess', status: 'False', reason: 'Timeout' }),
      ]);
    } finally {
      registry.override = null;
    }
  });
});

describe('the job deadline before the first request', () => {
  it('ends an import from a registry whose /v2/ never answers, with a Timeout reason', async () => {
    const silent = await startHostileRegistry();
    const held: ServerResponse[] = [];
    silent.override = (_req, res, request) => {
      if (request.kind !== 'ping') return false;
      held.push(res); // the scheme probe waits forever
      return true;
    };
    try {
      const started = performance.now();
      const job = await importAs('silent', {
        image: 'mute:v1',
        from: `${silent.host}/attack/mute:v1`,
      });
      const elapsed = performance.now() - started;
      console.info(`silent /v2/: the import ended after ${Math.round(elapsed)} ms`);
      expect(elapsed).toBeLessThan(DEADLINE_MS + 3000);
      expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'Timeout' });
    } finally {
      for (const res of held) res.destroy();
      await silent.stop();
    }
  });
});

describe('the tag listing of importImage(all)', () => {
  it('stops an endless series of tag pages at the cap while /healthz keeps answering', async () => {
    let pages = 0;
    registry.override = (_req, res, request) => {
      if (request.kind !== 'tags') return false;
      pages++;
      const tags = Array.from({ length: 1000 }, (_, i) => `p${pages}-t${i}`);
      res.writeHead(200, {
        'content-type': 'application/json',
        link: `</v2/attack/endless/tags/list?last=p${pages}>; rel="next"`,
      });
      res.end(JSON.stringify({ name: 'attack/endless', tags }));
      return true;
    };
    try {
      const {
        result: job,
        worstMs,
        probes,
      } = await healthzDuring(() =>
        importAs('endless', {
          image: 'endless',
          from: `${registry.host}/attack/endless`,
          all: true,
        }),
      );
      console.info(
        `endless pages: ${pages} read; /healthz worst ${worstMs.toFixed(1)} ms over ${probes} probes`,
      );
      expect(pages).toBe(5);
      expect(job.tagListTruncated).toBe(true);
      expect(job.tags).toHaveLength(3);
      expect(job.additionalTags).toHaveLength(5000 - 3);
      expect(worstMs).toBeLessThan(2000);
    } finally {
      registry.override = null;
    }
  });

  it('cuts one huge page at the byte cap and keeps its complete names', async () => {
    // 150,000 names of 100 characters in one page (15 MB): far past the 256 KiB cap, and past
    // what push(...page) can take as arguments.
    const tags = Array.from({ length: 150_000 }, (_, i) => `t${i}-`.padEnd(100, 'x'));
    const page = Buffer.from(JSON.stringify({ name: 'attack/huge-page', tags }));
    let served = 0;
    registry.override = (_req, res, request) => {
      if (request.kind !== 'tags') return false;
      served++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': page.length });
      res.end(page);
      return true;
    };
    try {
      const t0 = performance.now();
      const {
        result: job,
        worstMs,
        probes,
      } = await healthzDuring(() =>
        importAs('hugepage', {
          image: 'huge-page',
          from: `${registry.host}/attack/huge-page`,
          all: true,
        }),
      );
      console.info(`huge page: import ${Math.round(performance.now() - t0)} ms`);
      console.info(`huge page: /healthz worst ${worstMs.toFixed(1)} ms over ${probes} probes`);
      expect(served).toBe(1);
      expect(job.tagListTruncated).toBe(true);
      const listed = job.tags.length + job.additionalTags.length;
      // Every name in the first 256 KiB (103 bytes each with quotes and comma), none cut short.
      expect(listed).toBe(
        Math.floor((256 * KiB - '{"name":"attack/huge-page","tags":['.length) / 103),
      );
      for (const name of [...job.tags, ...job.additionalTags]) expect(name).toHaveLength(100);
      expect(worstMs).toBeLessThan(2000);
    } finally {
      registry.override = null;
    }
  });

  it('reads a listing within the caps whole, not truncated', async () => {
    registry.override = (_req, res, request) => {
      if (request.kind !== 'tags') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'attack/small', tags: ['b', 'a', 'latest', '1.0'] }));
      return true;
    };
    try {
      const job = await importAs('small', {
        image: 'small',
        from: `${registry.host}/attack/small`,
        all: true,
      });
      expect(job.tagListTruncated).toBe(false);
      expect(job.tags).toEqual(['latest', '1.0', 'a']);
      expect(job.additionalTags).toEqual(['b']);
    } finally {
      registry.override = null;
    }
  });
});

describe('fairness between namespaces', () => {
  it('runs another namespace while a hanging registry holds one namespace, until the deadline frees it', async () => {
    const fairDeadlineMs = 5000;
    const fair = await startTestApp({
      importConcurrency: 2,
      importNamespaceConcurrency: 1,
      importBudget: {
        maxChildren: 40,
        maxBytes: 1 * MiB,
        deadlineMs: fairDeadlineMs,
        maxListedTags: 5000,
        maxTagListBytes: 256 * KiB,
      },
    });
    const hanging: ServerResponse[] = [];
    registry.override = (_req, res, request) => {
      if (!request.path.startsWith('/v2/attack/hang/')) return false;
      hanging.push(res); // never answered
      return true;
    };
    try {
      const slowFirst = await enqueueAs(fair, 'fair-slow', {
        image: 'one:v1',
        from: `${registry.host}/attack/hang:v1`,
      });
      const slowSecond = await enqueueAs(fair, 'fair-slow', {
        image: 'two:v1',
        from: `${registry.host}/attack/hang:v2`,
      });
      const registryUrl = inject('registryUrl');
      const repository = `fair-${process.pid}-${Math.random().toString(36).slice(2, 8)}/app`;
      const pushed = await pushImage(registryUrl, repository, 'v1', { content: 'fair' });
      const fast = await enqueueAs(fair, 'fair-fast', {
        image: 'app:v1',
        from: `${new URL(registryUrl).host}/${repository}:v1`,
      });

      const started = performance.now();
      await fair.importer.worker.start();
      const fastJob = await pollUntil(fast, (job) => job.status === 'succeeded', 4000);
      const fastMs = performance.now() - started;
      expect(fastJob.images[0]).toMatchObject({ status: 'Success', digest: pushed.digest });
      // The slow namespace's first job still holds its one slot; its second waits behind it.
      expect((await slowFirst()).status).toBe('running');
      expect((await slowSecond()).status).toBe('queued');
      console.info(
        `fairness: the other namespace's import finished after ${Math.round(fastMs)} ms`,
      );

      const timedOut = await pollUntil(
        slowFirst,
        (job) => job.status !== 'running',
        fairDeadlineMs + 5000,
      );
      const slowMs = performance.now() - started;
      console.info(`fairness: the hanging import was ended after ${Math.round(slowMs)} ms`);
      expect(timedOut.images[0]).toMatchObject({ status: 'Failure', reason: 'Timeout' });
      expect(slowMs).toBeGreaterThanOrEqual(fairDeadlineMs - 100);
    } finally {
      registry.override = null;
      for (const res of hanging) res.destroy();
      await fair.importer.worker.stop();
      await fair.stop();
    }
  });
});
