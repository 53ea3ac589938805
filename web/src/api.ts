// Talks to the gateway that served the page: GraphQL over HTTP, subscriptions over graphql-ws.
import { type Client, createClient } from 'graphql-ws';

const TOKEN_KEY = 'tagraph.token';

/** The token the user pasted, kept for this tab only (sessionStorage), or null. */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}

/** A request the server refused as a whole (no data): its errors, the first one as message. */
export class RequestError extends Error {
  constructor(
    readonly errors: GraphqlError[],
    readonly status: number,
  ) {
    super(errors[0]?.message ?? `HTTP ${status}`);
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

/** Runs one query or mutation; throws RequestError when the answer has errors. */
export async function request<T>(
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    credentials: 'omit',
  });
  const body = (await response.json().catch(() => ({}))) as {
    data?: T;
    errors?: GraphqlError[];
  };
  if (body.errors?.length || !body.data) {
    throw new RequestError(body.errors ?? [], response.status);
  }
  return body.data;
}

/** One graphql-ws connection per token; subscriptions share it. */
export function subscriptionClient(token: string | null): Client {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  return createClient({
    url,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: true,
    // The stream view resubscribes itself from its last cursor (StreamView); a retry here
    // would replay the original `since`.
    retryAttempts: 0,
  });
}

export interface Subscription {
  stop(): void;
}

/**
 * Subscribes and keeps subscribed: on an error or an end it waits (1 s, doubling to 15 s) and
 * subscribes again with the variables `variables()` gives then (the last cursor seen). `onState`
 * hears true when the server acknowledged the connection, false when it closed.
 */
export function keepSubscribed<T>(
  client: Client,
  query: string,
  variables: () => Record<string, unknown>,
  onData: (data: T) => void,
  onState: (live: boolean) => void,
): Subscription {
  let stopped = false;
  let delay = 1000;
  let dispose: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    if (stopped) return;
    dispose = client.subscribe<T>(
      { query, variables: variables() },
      {
        next: (result) => {
          delay = 1000;
          onState(true);
          if (result.data) onData(result.data as T);
        },
        error: () => again(),
        complete: () => again(),
      },
    );
  };
  const again = () => {
    onState(false);
    if (stopped) return;
    timer = setTimeout(start, delay);
    delay = Math.min(delay * 2, 15_000);
  };
  // Live once the server acknowledged the connection; not while it is closed.
  const offConnected = client.on('connected', () => onState(true));
  const offClosed = client.on('closed', () => onState(false));
  start();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      offConnected();
      offClosed();
      dispose?.();
    },
  };
}
