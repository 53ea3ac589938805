// A registry written for attack tests: speaks enough of the distribution API v2 (/v2/,
// manifests, blobs, tags/list) on 127.0.0.1 to be imported from, and lets a test make any route
// slow, endless or oversized.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuiltImage, BuiltIndex } from './images.ts';

export interface HostileRequest {
  method: string;
  /** The request path with its query. */
  path: string;
  kind: 'ping' | 'manifest' | 'blob' | 'tags' | 'other';
}

/** Handles a route itself; returns false to let the default handling answer. */
export type RouteOverride = (
  req: IncomingMessage,
  res: ServerResponse,
  request: HostileRequest,
) => boolean | Promise<boolean>;

export interface HostileRegistry {
  /** `127.0.0.1:PORT`, as in an image reference (the registry is plain HTTP: import insecure). */
  host: string;
  url: string;
  /** Every request received, in order. */
  requests: HostileRequest[];
  /** Serves an image's manifest under `tag` and its digest, and its config blob (any repository). */
  addImage(tag: string | null, image: BuiltImage): void;
  /** Serves an index under `tag` and its digest, and each child as `addImage` does. */
  addIndex(tag: string, index: BuiltIndex): void;
  /** Answers requests before the default handling (tags/list has no default: 404). */
  override: RouteOverride | null;
  stop(): Promise<void>;
}

interface Served {
  mediaType: string;
  digest: string;
  body: Buffer;
}

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|tags)\/([^/?]+)/;

export async function startHostileRegistry(): Promise<HostileRegistry> {
  const manifests = new Map<string, Served>();
  const blobs = new Map<string, Buffer>();
  const requests: HostileRequest[] = [];
  const addImage = (tag: string | null, image: BuiltImage) => {
    const served = { mediaType: image.mediaType, digest: image.digest, body: image.manifest };
    manifests.set(image.digest, served);
    if (tag) manifests.set(tag, served);
    blobs.set(image.configDigest, image.config);
  };
  const self: HostileRegistry = {
    host: '',
    url: '',
    requests,
    override: null,
    addImage,
    addIndex(tag, index) {
      const served = { mediaType: index.mediaType, digest: index.digest, body: index.manifest };
      manifests.set(index.digest, served);
      manifests.set(tag, served);
      for (const child of index.children) addImage(null, child);
    },
    stop: async () => {},
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const route = ROUTE.exec(path);
    const kind: HostileRequest['kind'] =
      path === '/v2/' || path === '/v2'
        ? 'ping'
        : route?.[2] === 'manifests'
          ? 'manifest'
          : route?.[2] === 'blobs'
            ? 'blob'
            : route?.[2] === 'tags'
              ? 'tags'
              : 'other';
    const request = { method: req.method ?? 'GET', path, kind };
    requests.push(request);
    void (async () => {
      if (self.override && (await self.override(req, res, request))) return;
      if (kind === 'ping') return send(res, 200, 'application/json', Buffer.from('{}'));
      if (kind === 'manifest') {
        const found = manifests.get(decodeURIComponent(route![3]!));
        if (!found) return send(res, 404, 'application/json', Buffer.from('{"errors":[]}'));
        res.setHeader('docker-content-digest', found.digest);
        return send(res, 200, found.mediaType, found.body, req.method === 'HEAD');
      }
      if (kind === 'blob') {
        const found = blobs.get(decodeURIComponent(route![3]!));
        if (!found) return send(res, 404, 'application/json', Buffer.from('{"errors":[]}'));
        return send(res, 200, 'application/octet-stream', found);
      }
      return send(res, 404, 'application/json', Buffer.from('{"errors":[]}'));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  self.host = `127.0.0.1:${port}`;
  self.url = `http://${self.host}`;
  self.stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return self;
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Buffer,
  headOnly = false,
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  res.end(headOnly ? undefined : body);
}
