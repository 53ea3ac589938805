// Real subscription clients for tests: graphql-ws over a socket, and SSE over fetch.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Received<T> {
  /** Results so far, in arrival order. */
  results: T[];
  /** Resolves once `count` results have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** How the stream ended: complete, an error, or the socket closing. */
  ended: Promise<{ kind: 'complete' } | { kind: 'error'; error: unknown }>;
  stop(): Promise<void>;
}

function collector<T>() {
  const results: T[] = [];
  const waiters: { count: number; resolve: (r: T[]) => void }[] = [];
  const push = (value: T) => {
    results.push(value);
    for (const w of [...waiters]) {
      if (results.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(results.slice());
      }
    }
  };
  const waitFor = (count: number, timeoutMs = 10_000) =>
    new Promise<T[]>((resolveWait, reject) => {
      if (results.length >= count) return resolveWait(results.slice());
      const timer = setTimeout(
        () =>
          reject(
            new Error(`got ${results.length} of ${count} results: ${JSON.stringify(results)}`),
          ),
        timeoutMs,
      );
      waiters.push({
        count,
        resolve: (r) => {
          clearTimeout(timer);
          resolveWait(r);
        },
      });
    });
  return { results, push, waitFor };
}

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/graphql`;
}

/** Subscribes over graphql-ws; each `next` payload is collected. */
export function subscribeWs<T = { data?: Record<string, unknown>; errors?: unknown[] }>(
  httpUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  clientOptions: { onClose?: (code: number, reason: string) => void; token?: string } = {},
): Received<T> & { client: Client; connected: Promise<void> } {
  const { results, push, waitFor } = collector<T>();
  let markConnected: () => void = () => {};
  const connected = new Promise<void>((r) => {
    markConnected = r;
  });
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams: clientOptions.token
      ? { authorization: `Bearer ${clientOptions.token}` }
      : undefined,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: {
      connected: () => markConnected(),
      closed: (event) => {
        const e = event as { code: number; reason: string };
        clientOptions.onClose?.(e.code, e.reason);
      },
    },
  });
  const ended = new Promise<{ kind: 'complete' } | { kind: 'error'; error: unknown }>((done) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => push(value as T),
        error: (error) => done({ kind: 'error', error }),
        complete: () => done({ kind: 'complete' }),
      },
    );
  });
  return {
    results,
    waitFor,
    ended,
    client,
    connected,
    stop: () => client.dispose() as Promise<void>,
  };
}

/**
 * Subscribes over SSE (POST with Accept: text/event-stream); each `next` payload is collected.
 * `ended` is `complete` when the server ends the stream (a complete event, or the body ends).
 */
export function subscribeSse<T = { data?: Record<string, unknown>; errors?: unknown[] }>(
  httpUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string } = {},
): Received<T> & { opened: Promise<void> } {
  const { results, push, waitFor } = collector<T>();
  const abort = new AbortController();
  let markOpened: () => void = () => {};
  const opened = new Promise<void>((r) => {
    markOpened = r;
  });
  const ended = (async (): Promise<{ kind: 'complete' } | { kind: 'error'; error: unknown }> => {
    try {
      const response = await fetch(`${httpUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      markOpened();
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { kind: 'complete' };
        buffer += value;
        let split = buffer.indexOf('\n\n');
        while (split !== -1) {
          const message = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const event = message.match(/^event: (\w+)/m)?.[1];
          const data = message.match(/^data: (.*)$/m)?.[1];
          if (event === 'next' && data) push(JSON.parse(data) as T);
          if (event === 'complete') return { kind: 'complete' };
          split = buffer.indexOf('\n\n');
        }
      }
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  return {
    results,
    waitFor,
    ended,
    opened,
    stop: async () => {
      abort.abort();
      await ended;
    },
  };
}
