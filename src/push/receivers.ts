// `POST /hooks/<token>`: a registry's webhook calls a namespace's receiver (a yoga plugin).
import { createHmac } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { receiverActor } from '../domain/actors.ts';
import { type ReceiverKind, readReceiverPayload } from '../domain/receivers.ts';
import { actingAs } from '../events/append.ts';
import { decrypt } from '../secrets.ts';
import { type ReceiverRow, receiverByToken, triggerReceiver } from '../services/receivers.ts';
import { readLimitedBytes, sameSecret } from './endpoint.ts';

export const RECEIVER_PATH_PREFIX = '/hooks/';

/** A push event is a few kilobytes; Docker Hub's, with its Dockerfile, the largest. */
export const MAX_RECEIVER_BODY_BYTES = 64 * 1024;

/** How far a GENERIC call's timestamp may be from now, either way, before it is refused as a replay. */
export const GENERIC_MAX_AGE_SECONDS = 300;

export const GENERIC_TIMESTAMP_HEADER = 'x-tagraph-timestamp';
export const GENERIC_SIGNATURE_HEADER = 'x-tagraph-signature';

/** Tokens are 43 base64url characters; anything else is no token of ours. */
const TOKEN = /^[A-Za-z0-9_-]{20,128}$/;

export function receiversPlugin(
  db: Db,
  secretKey: Buffer,
  requestIds: WeakMap<Request, string>,
  log: Logger,
): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (!url.pathname.startsWith(RECEIVER_PATH_PREFIX)) return;
      const requestId = requestIds.get(request) ?? '';
      endResponse(await handle(request, url.pathname, db, secretKey, requestId, log));
    },
  };
}

const answer = (status: number, error: string) => Response.json({ error }, { status });

async function handle(
  request: Request,
  pathname: string,
  db: Db,
  secretKey: Buffer,
  requestId: string,
  log: Logger,
): Promise<Response> {
  if (request.method !== 'POST') {
    return Response.json({ error: 'use POST' }, { status: 405, headers: { allow: 'POST' } });
  }
  const token = pathname.slice(RECEIVER_PATH_PREFIX.length);
  let receiver: ReceiverRow | null;
  try {
    receiver = TOKEN.test(token) ? await receiverByToken(db, token) : null;
  } catch (error) {
    log.error({ err: error, requestId }, 'receiver lookup failed');
    return answer(503, 'could not read the receiver; retry');
  }
  if (!receiver) return answer(404, 'no such receiver');
  const where = { namespace: receiver.namespace, receiver: receiver.name, requestId };
  const body = await readLimitedBytes(request, MAX_RECEIVER_BODY_BYTES);
  if (body === null) {
    log.info(where, 'receiver call refused: body too large');
    return answer(413, `body over ${MAX_RECEIVER_BODY_BYTES} bytes`);
  }
  const refusal = verify(receiver, secretKey, request.headers, body);
  if (refusal) {
    log.info({ ...where, reason: refusal }, 'receiver call refused');
    return answer(401, refusal);
  }
  const kind = receiver.kind as ReceiverKind;
  if (kind === 'GITHUB' && request.headers.get('x-github-event') === 'ping') {
    return Response.json({ received: 'ping' });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return answer(400, 'body is not JSON');
  }
  const read = readReceiverPayload(kind, json, receiver.registry);
  if (!read.ok) return answer(400, `not a ${kind} push payload: ${read.error}`);
  if (read.push === null) return Response.json({ ignored: read.ignored, queued: 0, jobs: 0 });
  const push = read.push;
  try {
    const summary = await actingAs(
      receiverActor(receiver.namespace, receiver.name, requestId),
      () => triggerReceiver(db, receiver, push),
    );
    log.info(
      { ...where, repository: push.repository, tags: push.tags, ...summary },
      'receiver called',
    );
    return Response.json(
      { repository: push.repository, tags: push.tags, ...summary },
      { status: 202 },
    );
  } catch (error) {
    log.error({ ...where, err: error }, 'receiver call failed to queue its imports');
    return answer(503, 'could not queue the re-checks; retry');
  }
}

/** Why the call's credential does not hold for this receiver's kind, or null when it does. */
function verify(
  receiver: ReceiverRow,
  secretKey: Buffer,
  headers: Headers,
  body: Buffer,
): string | null {
  if (receiver.encryptedSecret === null) return null;
  const secret = decrypt(secretKey, receiver.encryptedSecret);
  switch (receiver.kind as ReceiverKind) {
    case 'GITHUB': {
      const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      return sameSecret(headers.get('x-hub-signature-256'), expected)
        ? null
        : 'X-Hub-Signature-256 does not match the body';
    }
    case 'HARBOR':
      return sameSecret(headers.get('authorization'), secret)
        ? null
        : "the Authorization header is not the receiver's secret";
    case 'GENERIC': {
      const timestamp = headers.get(GENERIC_TIMESTAMP_HEADER) ?? '';
      if (!/^[0-9]{1,12}$/.test(timestamp)) return `${GENERIC_TIMESTAMP_HEADER} is missing`;
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > GENERIC_MAX_AGE_SECONDS) {
        return `${GENERIC_TIMESTAMP_HEADER} is more than ${GENERIC_MAX_AGE_SECONDS} s from now (a replay?)`;
      }
      const hmac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
      return sameSecret(headers.get(GENERIC_SIGNATURE_HEADER), `sha256=${hmac}`)
        ? null
        : `${GENERIC_SIGNATURE_HEADER} does not match the timestamp and body`;
    }
    default:
      return null;
  }
}
