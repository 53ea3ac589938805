// Child process: the writes baseline. The same rows a `tag` mutation writes (tag spec, a pushed
// history item, the stream's resource version, an event, a NOTIFY), as hand-written SQL over
// postgres.js with no GraphQL, validation or ORM in the way.
import postgres from 'postgres';
import { quantile } from './stats.ts';

export interface RawWriteSpec {
  databaseUrl: string;
  namespace: string;
  connections: number;
  duration: number;
  /** Destinations `<stream>:<tag>` and the two image digests they alternate between. */
  destinations: [string, string][];
  images: [string, string];
  /**
   * Take the advisory lock tagraph's writers took before the events sequencer (until 2026-12-02):
   * shows what that design would cost on this machine. tagraph takes no lock now.
   */
  eventsLock: boolean;
}

async function main(spec: RawWriteSpec) {
  const sql = postgres(spec.databaseUrl, { max: spec.connections, onnotice: () => {} });
  let next = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + spec.duration * 1000;
  const write = async (k: number) => {
    const [stream, tag] = spec.destinations[k % spec.destinations.length]!;
    const digest = spec.images[Math.floor(k / spec.destinations.length) % 2]!;
    const from = `src@${digest}`;
    await sql.begin(async (tx) => {
      const [s] = await tx`update image_streams set generation = generation + 1,
          resource_version = resource_version + 1, updated_at = now()
        where namespace = ${spec.namespace} and name = ${stream} returning id, generation`;
      const [t] = await tx`insert into tags (stream_id, name, from_kind, from_name, spec_generation)
        values (${s!.id}, ${tag}, 'ImageStreamImage', ${from}, ${s!.generation})
        on conflict (stream_id, name) do update set from_kind = excluded.from_kind,
          from_name = excluded.from_name, spec_generation = excluded.spec_generation,
          updated_at = now()
        returning id`;
      await tx`insert into tag_history (tag_id, seq, docker_image_reference, image_digest, generation)
        select ${t!.id}, coalesce(max(seq), 0) + 1, ${`quay.io/bench/app@${digest}`}, ${digest},
          ${s!.generation} from tag_history where tag_id = ${t!.id}`;
      if (spec.eventsLock) await tx`select pg_advisory_xact_lock(7242002)`;
      await tx`insert into events (namespace, stream, tag, type, cause, payload)
        values (${spec.namespace}, ${stream}, ${tag}, 'UPDATED', 'tag', ${tx.json({ digest })})`;
      await tx`select pg_notify('tagraph_events', '')`;
    });
  };
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      await write(next++);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: spec.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  await sql.end({ timeout: 5 });
  return {
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    total: latencies.length,
  };
}

main(JSON.parse(process.argv[2] ?? '{}') as RawWriteSpec).then(
  (result) => process.send?.(result, () => process.exit(0)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
