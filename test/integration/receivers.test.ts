// Webhook receivers: each vendor's call re-checks the namespace's following tags at once (cause WEBHOOK).
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports, importFrom } from '../support/imports.ts';
import {
  dockerHubPayload,
  githubPayload,
  harborPayload,
  quayPayload,
} from '../support/receiverPayloads.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

let app: TestApp;
let logged = '';

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  app = await startTestApp(
    { importIntervalMs: 3_600_000 },
    { log: pino({ level: 'debug' }, sink) },
  );
});
afterAll(async () => {
  await app.stop();
});

type Kind = 'DOCKER_HUB' | 'QUAY' | 'HARBOR' | 'GITHUB' | 'GENERIC';

interface Receiver {
  path: string;
  secret: string | null;
}

async function createReceiver(admin: TestApp, namespace: string, kind: Kind, registry?: string) {
  const result = await admin.graphql<{
    createReceiver: { __typename: string; path: string; secret: string | null };
  }>(
    `mutation($input: CreateReceiverInput!) { createReceiver(input: $input) {
      __typename ... on CreateReceiverPayload { path secret receiver { name kind signed } } } }`,
    { input: { namespace, name: `from-${kind.toLowerCase().replace('_', '-')}`, kind, registry } },
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.createReceiver.__typename).toBe('CreateReceiverPayload');
  return result.data!.createReceiver as Receiver;
}

/** POSTs `body` to the receiver as the vendor would, signed with `secret` where the kind signs. */
function call(
  receiver: Receiver,
  kind: Kind,
  body: string,
  options: { secret?: string | null; timestamp?: number; headers?: Record<string, string> } = {},
) {
  const secret = options.secret === undefined ? receiver.secret : options.secret;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== null) {
    if (kind === 'GITHUB') {
      headers['x-github-event'] = 'package';
      headers['x-hub-signature-256'] =
        `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    } else if (kind === 'HARBOR') {
      headers.authorization = secret;
    } else if (kind === 'GENERIC') {
      const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      headers['x-tagraph-timestamp'] = timestamp;
      headers['x-tagraph-signature'] =
        `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    }
  }
  return fetch(`${app.url}${receiver.path}`, {
    method: 'POST',
    headers: { ...headers, ...options.headers },
    body,
  });
}

interface Setup {
  namespace: string;
  repository: string;
  receiver: Receiver;
  reader: TestApp;
}

/** A namespace with a scheduled tag `app:v1` from a fresh repository, and a receiver of `kind`. */
async function setUp(kind: Kind, registry?: string): Promise<Setup> {
  const namespace = `recv-${kind.toLowerCase().replace('_', '-')}`;
  const repository = `recv-${unique}/${kind.toLowerCase().replace('_', '')}`;
  await pushImage(registryUrl, repository, 'v1', { content: `${kind}-1` });
  const editor = app.as(await app.member(namespace, 'EDITOR'));
  const job = await importFrom(editor, namespace, 'app:v1', `${registryHost}/${repository}:v1`, {
    scheduled: true,
  });
  expect(job.status).toBe('succeeded');
  const admin = app.as(await app.member(namespace, 'ADMIN'));
  const receiver = await createReceiver(admin, namespace, kind, registry);
  expect(receiver.path).toMatch(/^\/hooks\/[A-Za-z0-9_-]{43}$/);
  const reader = app.as(await app.member(namespace, 'IMAGE_PULLER'));
  return { namespace, repository, receiver, reader };
}

async function webhookEvents(reader: TestApp, namespace: string) {
  const result = await reader.graphql<{
    tagEvents: {
      events: {
        cause: string;
        tag: string;
        current: { digest: string | null } | null;
        actor: { kind: string; subject: string; source: string; requestId: string | null } | null;
      }[];
    };
  }>(
    `query($ns: String!) { tagEvents(namespace: $ns, first: 100, filter: {causes: [WEBHOOK]}) {
      events { cause tag current { digest } actor { kind subject source requestId } } } }`,
    { ns: namespace },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.tagEvents.events;
}

const CASES: {
  kind: Kind;
  /** The receiver's registry setting: where the payload does not name the host. */
  registry?: string;
  payload: (repository: string, tag: string, digest: string) => unknown;
  signed: boolean;
}[] = [
  {
    kind: 'DOCKER_HUB',
    registry: registryHost,
    payload: (repository, tag) => dockerHubPayload(repository, tag),
    signed: false,
  },
  {
    kind: 'QUAY',
    payload: (repository, tag) => quayPayload(registryHost, repository, [tag]),
    signed: false,
  },
  {
    kind: 'HARBOR',
    payload: (repository, tag, digest) => harborPayload(registryHost, repository, tag, digest),
    signed: true,
  },
  {
    kind: 'GITHUB',
    registry: registryHost,
    payload: (repository, tag, digest) => githubPayload(repository, tag, digest),
    signed: true,
  },
  {
    kind: 'GENERIC',
    payload: (repository, tag) => ({ repository: `${registryHost}/${repository}`, tag }),
    signed: true,
  },
];

describe.each(CASES)('a $kind receiver', ({ kind, registry, payload, signed }) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(kind, registry);
  });

  it('refuses a malformed call with 400 and queues nothing', async () => {
    const notJson = await call(setup.receiver, kind, '{"repository": ');
    expect(notJson.status).toBe(400);
    const wrongShape = await call(setup.receiver, kind, JSON.stringify({ hello: 'world' }));
    expect(wrongShape.status).toBe(400);
    expect((await wrongShape.json()).error).toMatch(new RegExp(`not a ${kind} push payload`));
    expect(await drainImports(app)).toBe(0);
  });

  it.runIf(signed)('refuses a badly signed call with 401 and queues nothing', async () => {
    const body = JSON.stringify(payload(setup.repository, 'v1', `sha256:${'0'.repeat(64)}`));
    const forged = await call(setup.receiver, kind, body, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    const unsigned = await call(setup.receiver, kind, body, { secret: null });
    expect(unsigned.status).toBe(401);
    expect(await drainImports(app)).toBe(0);
  });

  it('answers 404 for an unknown token and 413 for a body over 64 KiB', async () => {
    const unknown = { path: `/hooks/${'A'.repeat(43)}`, secret: setup.receiver.secret };
    const body = JSON.stringify(payload(setup.repository, 'v1', `sha256:${'0'.repeat(64)}`));
    expect((await call(unknown, kind, body)).status).toBe(404);
    const huge = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    expect((await call(setup.receiver, kind, huge)).status).toBe(413);
  });

  it('re-checks the following tag at once: an import, and an event with cause WEBHOOK', async () => {
    const pushed = await pushImage(registryUrl, setup.repository, 'v1', { content: `${kind}-2` });
    const body = JSON.stringify(payload(setup.repository, 'v1', pushed.digest));
    const response = await call(setup.receiver, kind, body);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ queued: 1, jobs: 1 });
    expect(await drainImports(app)).toBe(1);
    const events = await webhookEvents(setup.reader, setup.namespace);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      cause: 'WEBHOOK',
      tag: 'v1',
      current: { digest: pushed.digest },
      actor: {
        kind: 'SYSTEM',
        subject: `system:receiver:${setup.namespace}:from-${kind.toLowerCase().replace('_', '-')}`,
        source: `receiver:from-${kind.toLowerCase().replace('_', '-')}`,
      },
    });
    expect(events[0]!.actor!.requestId).toBe(response.headers.get('x-request-id'));
    // A push of a tag nothing follows queues nothing.
    const other = JSON.stringify(payload(setup.repository, 'v2', pushed.digest));
    const ignored = await call(setup.receiver, kind, other);
    expect(ignored.status).toBe(202);
    expect(await ignored.json()).toMatchObject({ queued: 0, jobs: 0 });
  });

  it('never logs the token or the secret', () => {
    const token = setup.receiver.path.slice('/hooks/'.length);
    expect(logged).toContain('/hooks/<token>');
    expect(logged).not.toContain(token);
    if (setup.receiver.secret) expect(logged).not.toContain(setup.receiver.secret);
  });
});

describe('a GENERIC receiver', () => {
  it('refuses a replayed call: a timestamp over five minutes old', async () => {
    const setup = await setUpGeneric();
    const body = JSON.stringify({ repository: `${registryHost}/${setup.repository}`, tag: 'v1' });
    const old = Math.floor(Date.now() / 1000) - 301;
    const replayed = await call(setup.receiver, 'GENERIC', body, { timestamp: old });
    expect(replayed.status).toBe(401);
    expect((await replayed.json()).error).toMatch(/replay/);
    expect(await drainImports(app)).toBe(0);
    // The same call, fresh, is taken.
    expect((await call(setup.receiver, 'GENERIC', body)).status).toBe(202);
    await drainImports(app);
  });
});

/** A second GENERIC receiver in its own namespace. */
async function setUpGeneric() {
  const namespace = 'recv-replay';
  const admin = app.as(await app.member(namespace, 'ADMIN'));
  const receiver = await createReceiver(admin, namespace, 'GENERIC');
  return { receiver, repository: `recv-${unique}/replay` };
}

describe('managing receivers', () => {
  it('lists without secrets, deletes, and refuses a duplicate name', async () => {
    const namespace = 'recv-manage';
    const admin = app.as(await app.member(namespace, 'ADMIN'));
    const created = await createReceiver(admin, namespace, 'GITHUB');
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await admin.graphql<{ createReceiver: { __typename: string } }>(
      `mutation($input: CreateReceiverInput!) { createReceiver(input: $input) { __typename } }`,
      { input: { namespace, name: 'from-github', kind: 'GITHUB' } },
    );
    expect(again.data!.createReceiver.__typename).toBe('ConflictError');
    const list = await admin.graphql<{ receivers: Record<string, unknown>[] }>(
      `query($ns: String!) { receivers(namespace: $ns) { name kind signed registry lastCalledAt } }`,
      { ns: namespace },
    );
    expect(list.data!.receivers).toEqual([
      { name: 'from-github', kind: 'GITHUB', signed: true, registry: null, lastCalledAt: null },
    ]);
    const deleted = await admin.graphql<{ deleteReceiver: { __typename: string } }>(
      `mutation($input: ReceiverRefInput!) { deleteReceiver(input: $input) { __typename } }`,
      { input: { namespace, name: 'from-github' } },
    );
    expect(deleted.data!.deleteReceiver.__typename).toBe('ReceiverPayload');
    const body = JSON.stringify(githubPayload('a/b', 'v1', `sha256:${'0'.repeat(64)}`));
    expect((await call(created, 'GITHUB', body)).status).toBe(404);
  });
});
