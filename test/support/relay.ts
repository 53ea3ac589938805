// A TCP relay to Postgres that can go away (connections cut, new ones refused) and come back on the same port.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class RefusingRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** Listens (again, on the same port once it has one; no-op while up) and relays each connection to Postgres. */
  async up(): Promise<void> {
    if (this.server) return;
    this.server = createServer((client) => {
      const upstream = createConnection(this.targetPort, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((done) => this.server!.listen(this.port, '127.0.0.1', done));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Cuts every relayed connection and stops listening: new connections are refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = new Promise<void>((done) => server?.close(() => done()) ?? done());
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** A relay in front of the Postgres server of `url`, listening, and `url` rewritten to go through it. */
export async function relayedUrl(url: string): Promise<{ relay: RefusingRelay; url: string }> {
  const target = new URL(url);
  const relay = new RefusingRelay(target.hostname, Number(target.port || 5432));
  await relay.up();
  target.hostname = '127.0.0.1';
  target.port = String(relay.port);
  return { relay, url: target.toString() };
}
