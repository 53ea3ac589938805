// HTTP routes beside GraphQL (/healthz, /readyz) and the request id every request carries.
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { migrationsApplied } from '../db/migrate.ts';
import { METRICS_PATH } from '../metrics.ts';
import { RECEIVER_PATH_PREFIX } from '../push/receivers.ts';

/** GraphQL over HTTP, SSE and graphql-ws, and GraphiQL for browsers. */
export const GRAPHQL_PATH = '/graphql';
/** Liveness: 200 while the process is alive. */
export const HEALTH_PATH = '/healthz';
/** Readiness: 200 when the database answers and every migration is applied, else 503. */
export const READY_PATH = '/readyz';

/** `/healthz`: the process is alive. `/readyz`: the database answers and is fully migrated. */
export function healthPlugin(database: Database): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === HEALTH_PATH) {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === READY_PATH) {
        const ready = await database
          .ping()
          .then(() => migrationsApplied(database))
          .catch(() => false);
        endResponse(
          Response.json({ status: ready ? 'ready' : 'not ready' }, { status: ready ? 200 : 503 }),
        );
      }
    },
  };
}

/**
 * Gives every request an id (the caller's `x-request-id` when sane), echoes it, logs its start
 * (debug) and its result.
 */
export function requestIdPlugin(requestIds: WeakMap<Request, string>, log: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request, url }) {
      const given = request.headers.get('x-request-id');
      const requestId = given && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
      requestIds.set(request, requestId);
      started.set(request, performance.now());
      log.debug(
        { requestId, method: request.method, path: loggedPath(url.pathname) },
        'request started',
      );
    },
    onResponse({ request, response, serverContext }) {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set('x-request-id', requestId);
      const start = started.get(request);
      const url = new URL(request.url);
      if (url.pathname === HEALTH_PATH || url.pathname === METRICS_PATH) return;
      void serverContext;
      log.info(
        {
          requestId,
          method: request.method,
          path: loggedPath(url.pathname),
          status: response.status,
          ms: start === undefined ? undefined : Math.round(performance.now() - start),
        },
        'request',
      );
    },
  };
}

/** A path as logged: a webhook receiver's token (its only credential) is never written out. */
function loggedPath(pathname: string): string {
  return pathname.startsWith(RECEIVER_PATH_PREFIX) ? `${RECEIVER_PATH_PREFIX}<token>` : pathname;
}
