// Child process: the subscription baseline, a bare `ws` server that sends one small JSON message
// to every socket when asked (POST /broadcast), with no GraphQL, database or filtering.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    const message = JSON.stringify({ time: Date.now(), type: 'UPDATED', tag: 'x' });
    for (const socket of wss.clients) socket.send(message);
    res.end('ok');
    return;
  }
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as { port: number }).port });
});
process.on('SIGTERM', () => process.exit(0));
