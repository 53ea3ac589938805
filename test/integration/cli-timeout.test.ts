// `tagraph import-image --timeout`: the wait is bounded by the server's maximum (a longer one is
// refused up front), and when it runs out the job's last error is printed with the hint.
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, runCli } from '../support/cli.ts';
import { type HostileRegistry, startHostileRegistry } from '../support/hostileRegistry.ts';

const NAMESPACE = 'cli-timeout';

let app: TestApp;
let registry: HostileRegistry;
let editor: string;

beforeAll(async () => {
  [app, registry] = await Promise.all([
    startTestApp({ importWorker: true }),
    startHostileRegistry(),
  ]);
  editor = await app.member(NAMESPACE, 'EDITOR');
  // The registry is up but answers every manifest with 503: a retryable failure.
  registry.override = (_req, res, request) => {
    if (request.kind !== 'manifest') return false;
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('maintenance');
    return true;
  };
});

afterCliTests(
  () => app?.stop(),
  () => registry?.stop(),
);

/** `tagraph import-image app:v1` from the hostile registry, waiting at most `timeout`. */
const importWaiting = (timeout: string) =>
  runCli(
    [
      ...['-n', NAMESPACE, 'import-image', 'app:v1', `--from=${registry.host}/team/app:v1`],
      ...['--confirm', '--insecure', `--timeout=${timeout}`],
    ],
    { url: app.url, env: { TAGRAPH_TOKEN: editor } },
  );

describe('tagraph import-image --timeout', () => {
  it('refuses a timeout above the 5m maximum before asking the server anything', async () => {
    const result = await importWaiting('10m');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --timeout 10m is over the maximum of 5m/);
    expect(result.stdout).toBe('');
    const stream = await app.call(
      editor,
      `{ imageStream(namespace: "${NAMESPACE}", name: "app") { name } }`,
    );
    expect(stream.data).toEqual({ imageStream: null });
  });

  it('prints the last error of an import still being retried when the wait runs out', async () => {
    const result = await importWaiting('8s');
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: the import of app \(job \d+\) had not finished after 8s$/);
    expect(lines[1]).toMatch(
      /^error: its last error \(\d+ attempts? so far\): v1: .* answered HTTP 503 for manifest team\/app:v1; it is retried$/,
    );
    expect(lines[2]).toBe('error: it goes on in the server: see tagraph describe is/app later');
  });
});
