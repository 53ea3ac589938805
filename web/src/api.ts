// Talks to the gateway that served the page: GraphQL over HTTP, subscriptions over graphql-ws.
import { type Client, createClient } from 'graphql-ws';

const TOKEN_KEY = 'tagraph.token';

/** Each document's SHA-256, by its text: written into the bundle by the build (web/build.mjs). */
declare const __DOCUMENT_HASHES__: Record<string, string>;

let byHash = false;

/**
 * Whether the gateway runs trusted documents only (`/ui/session.json` says): then every document
 * is sent by its hash alone; otherwise as text, as any client does.
 */
export function sendByHash(trusted: boolean): void {
  byHash = trusted;
}

/**
 * The persisted-document extension that names `query` by its hash, as a gateway in
 * trusted-documents mode wants it (docs/security.md); none for a document the build did not see,
 * or when the gateway runs any document.
 */
function persisted(query: string): { persistedQuery: { version: 1; sha256Hash: string } } | null {
  const hash = byHash ? __DOCUMENT_HASHES__[query] : undefined;
  return hash ? { persistedQuery: { version: 1, sha256Hash: hash } } : null;
}

/** The server does not know the hash: send the text with it (automatic persisted queries). */
const NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND';

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
  const extensions = persisted(query);
  const post = async (withText: boolean) => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        ...(withText ? { query } : {}),
        variables,
        ...(extensions ? { extensions } : {}),
      }),
      credentials: 'omit',
    });
    const body = (await response.json().catch(() => ({}))) as {
      data?: T;
      errors?: GraphqlError[];
    };
    return { response, body };
  };
  let { response, body } = await post(extensions === null);
  if (body.errors?.[0]?.extensions?.code === NOT_FOUND) ({ response, body } = await post(true));
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
  const extensions = persisted(query);
  let withText = extensions === null;
  let dispose: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    if (stopped) return;
    dispose = client.subscribe<T>(
      // graphql-ws wants a `query`: empty when the hash names the document.
      {
        query: withText ? query : '',
        variables: variables(),
        ...(extensions ? { extensions } : {}),
      },
      {
        next: (result) => {
          delay = 1000;
          onState(true);
          if (result.data) onData(result.data as T);
        },
        error: (error) => {
          const refused = Array.isArray(error) ? (error[0] as GraphqlError | undefined) : null;
          if (refused?.extensions?.code === NOT_FOUND && !withText) {
            withText = true;
            start();
          } else again();
        },
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
