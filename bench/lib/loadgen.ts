// Child process: one autocannon run, reported to the parent over IPC (load never shares a process
// with the server it measures).
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  headers: Record<string, string>;
  /** Request bodies, sent round-robin (a write scenario varies them; a query has one). */
  bodies: string[];
  /** A response body must contain this, or it counts as a mismatch. */
  expect: string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
}

async function main(spec: LoadSpec): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    method: 'POST',
    headers: spec.headers,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          request.body = spec.bodies[next++ % spec.bodies.length]!;
          return request;
        },
      },
    ],
    verifyBody: (body: string) => body.includes(spec.expect),
  } as autocannon.Options);
  const r = result as autocannon.Result & { mismatches?: number };
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches ?? 0,
  };
}

// The spec arrives over IPC: a write scenario's bodies exceed what argv may carry.
process.once('message', (spec) =>
  main(spec as LoadSpec).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  ),
);
