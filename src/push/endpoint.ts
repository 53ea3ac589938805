// `POST /registry/events`: where connected registries report pushes (a yoga plugin).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { PushRegistry } from '../config.ts';
import type { Db } from '../db/client.ts';
import { notificationEnvelope } from './notifications.ts';
import { receiveNotifications } from './receive.ts';

export const REGISTRY_EVENTS_PATH = '/registry/events';

/** An envelope holds a few events of a few hundred bytes each; this leaves ample room. */
const MAX_BODY_BYTES = 1024 * 1024;

export function registryEventsPlugin(db: Db, registries: PushRegistry[], log: Logger): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== REGISTRY_EVENTS_PATH) return;
      endResponse(await handle(request, db, registries, log));
    },
  };
}

async function handle(
  request: Request,
  db: Db,
  registries: PushRegistry[],
  log: Logger,
): Promise<Response> {
  if (request.method !== 'POST') {
    return Response.json({ error: 'use POST' }, { status: 405, headers: { allow: 'POST' } });
  }
  const registry = registryFor(request.headers.get('authorization'), registries);
  if (!registry) {
    return Response.json(
      { error: 'a configured registry token is required' },
      { status: 401, headers: { 'www-authenticate': 'Bearer realm="tagraph registry events"' } },
    );
  }
  const body = await readLimited(request, MAX_BODY_BYTES);
  if (body === null) {
    return Response.json({ error: `body over ${MAX_BODY_BYTES} bytes` }, { status: 413 });
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return Response.json({ error: 'body is not JSON' }, { status: 400 });
  }
  const envelope = notificationEnvelope.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return Response.json(
      { error: `not a notification envelope: ${issue?.path.join('.')}: ${issue?.message}` },
      { status: 400 },
    );
  }
  try {
    const summary = await receiveNotifications(db, registry, envelope.data.events, log);
    log.info({ registry: registry.host, ...summary }, 'registry events received');
    return Response.json(summary);
  } catch (error) {
    // The database failed (not one event's data): not acknowledged, so the registry keeps the
    // events and delivers them again.
    log.error({ err: error, registry: registry.host }, 'storing registry events failed');
    return Response.json({ error: 'could not store the events; retry' }, { status: 503 });
  }
}

/** The registry whose token the request carries, compared in constant time. */
function registryFor(authorization: string | null, registries: PushRegistry[]) {
  const match = /^Bearer (.+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  return registries.find((registry) => sameSecret(match[1]!, registry.token));
}

/** Whether a credential a caller gave is `expected`, compared in constant time (hashed: lengths may differ). */
export function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The body as text, or null once it passes `max` bytes (the rest is not read). */
async function readLimited(request: Request, max: number): Promise<string | null> {
  return (await readLimitedBytes(request, max))?.toString('utf8') ?? null;
}

/** The body's bytes, or null once they pass `max` (the rest is not read). */
export async function readLimitedBytes(request: Request, max: number): Promise<Buffer | null> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > max) return null;
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
