// Child process: many subscribers, either graphql-ws `tagChanged` or bare `ws` sockets, recording
// when each message arrives. Commands arrive over IPC; answers go back the same way.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CLOSE_TOO_SLOW } from '../../src/events/hub.ts';

/**
 * `graphql-ws`: the graphql-ws client library; `protocol`: the same graphql-transport-ws protocol
 * spoken over a bare socket (one JSON.parse per message, like the `raw` clients of the bare ws
 * baseline), so the clients' own cost is equal on both sides; `raw`: the baseline's plain sockets.
 */
export type SubscriberMode = 'graphql-ws' | 'protocol' | 'raw';

export type SubscriberCommand =
  | {
      cmd: 'open';
      mode: SubscriberMode;
      url: string;
      count: number;
      headers: Record<string, string>;
      /** Authorization headers handed out round-robin, starting at index `first`. */
      authorizations: string[];
      first: number;
      namespace: string;
    }
  /** Start collecting: latencies against `sentAt` (one change) or each event's own time. */
  | { cmd: 'arm'; sentAt: number | null }
  | { cmd: 'collect' }
  | { cmd: 'close' };

const SUBSCRIPTION = (namespace: string) => ({
  query: `subscription($ns: String!) { tagChanged(namespace: $ns) { cursor type tag time current { digest } } }`,
  variables: { ns: namespace },
});

const now = () => performance.timeOrigin + performance.now();
const closers: (() => void)[] = [];
let sentAt: number | null = null;
/** Latency samples (ms) since the last `arm`. */
let samples: number[] = [];
let received = 0;
/** Subscribers the server closed as too slow (CLOSE_TOO_SLOW) since the last `arm`. */
let cutOff = 0;

function record(eventTime: number) {
  received += 1;
  samples.push(now() - (sentAt ?? eventTime));
}

async function open(command: Extract<SubscriberCommand, { cmd: 'open' }>) {
  const { mode, url, count, namespace, authorizations, first } = command;
  const one = (index: number) => {
    const authorization = authorizations[(first + index) % authorizations.length]!;
    const headers = { ...command.headers, authorization };
    // Authorization and other headers on the upgrade request, as a browser-less client sends them.
    class HeaderSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    }
    return new Promise<void>((resolve, reject) => {
      if (mode === 'raw') {
        const socket = new WebSocket(url);
        socket.on('open', () => resolve());
        socket.on('error', reject);
        socket.on('message', (data) => record((JSON.parse(String(data)) as { time: number }).time));
        closers.push(() => socket.terminate());
        return;
      }
      if (mode === 'protocol') {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.on('close', (code) => {
          if (code === CLOSE_TOO_SLOW) cutOff += 1;
        });
        socket.on('open', () =>
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })),
        );
        socket.on('error', reject);
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as {
            type: string;
            payload?: { data?: { tagChanged: { time: string } }; errors?: unknown };
          };
          if (message.type === 'next') {
            const changed = message.payload?.data?.tagChanged;
            if (changed) record(Date.parse(changed.time));
            else console.error('subscription error', message.payload?.errors);
          } else if (message.type === 'connection_ack') {
            socket.send(
              JSON.stringify({ id: '1', type: 'subscribe', payload: SUBSCRIPTION(namespace) }),
            );
            resolve();
          } else if (message.type === 'error') {
            console.error('subscription error', message.payload);
          }
        });
        closers.push(() => socket.terminate());
        return;
      }
      const client = createClient({
        url,
        webSocketImpl: HeaderSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization },
        on: {
          connected: () => resolve(),
          error: reject,
          closed: (event) => {
            if ((event as { code?: number }).code === CLOSE_TOO_SLOW) cutOff += 1;
          },
        },
      });
      client.subscribe<{ tagChanged: { time: string } }>(SUBSCRIPTION(namespace), {
        next: (result) => record(Date.parse(result.data!.tagChanged.time)),
        error: (error) => console.error('subscription error', error),
        complete: () => {},
      });
      closers.push(() => void client.dispose());
    });
  };
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => one(i + j)));
  }
}

process.on('message', async (message) => {
  const command = message as SubscriberCommand;
  try {
    if (command.cmd === 'open') {
      await open(command);
      process.send?.({ ok: true });
    } else if (command.cmd === 'arm') {
      sentAt = command.sentAt;
      samples = [];
      received = 0;
      cutOff = 0;
      process.send?.({ ok: true });
    } else if (command.cmd === 'collect') {
      process.send?.({ received, samples, cutOff });
    } else {
      for (const close of closers) close();
      process.send?.({ ok: true }, () => process.exit(0));
    }
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
});
