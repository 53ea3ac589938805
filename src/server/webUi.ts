// The web UI: its page at `/` and its bundled assets at `/ui/<file>`, from dist/web, with a strict CSP.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { packageRoot } from '../packageRoot.ts';

/** The page of the web UI. */
export const WEB_UI_PATH = '/';
/** Where its assets are served from: `/ui/<file>` (file names carry a content hash). */
export const WEB_UI_ASSETS_PREFIX = '/ui/';
/** `{"auth": "open" | "token"}`: whether the page needs a token before it can query. */
export const WEB_UI_SESSION_PATH = '/ui/session.json';
/** Where `npm run build` writes the UI (esbuild.config.mjs). */
export const WEB_UI_DIRECTORY = join(packageRoot, 'dist', 'web');

/**
 * Scripts and styles from this origin only (no inline script or style attribute), requests to this
 * origin only (GraphQL over HTTP and graphql-ws), no frames, no forms, no plugins.
 */
export const WEB_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** A file name the build writes: no directory part, no dot first. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

interface Asset {
  body: ArrayBuffer;
  type: string;
  etag: string;
}

/** Headers of every UI response: the CSP and the usual hardening. */
function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': WEB_UI_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/**
 * Answers `/ui/session.json` (the server's auth mode and whether it runs trusted documents only). Loads the built files once (they change only with a new build) and answers `GET`/`HEAD` of `/`
 * and `/ui/<file>`. The page is revalidated on every load (`no-cache` with an ETag); the hashed
 * assets are cached for a year. A build without the UI answers 404 with how to build it.
 */
export function webUiPlugin(
  authMode: 'open' | 'token',
  directory: string = WEB_UI_DIRECTORY,
  trustedDocuments = false,
): Plugin {
  // What the page asks before anything else: whether to show the sign-in form, and whether to
  // send its documents by hash alone (trusted-documents mode) or as text.
  const session = JSON.stringify({ auth: authMode, trustedDocuments });
  let assets: Promise<Map<string, Asset>> | null = null;
  const load = async (): Promise<Map<string, Asset>> => {
    const files = new Map<string, Asset>();
    const names = await readdir(directory).catch(() => [] as string[]);
    for (const name of names) {
      const extension = name.slice(name.lastIndexOf('.'));
      const type = CONTENT_TYPES[extension];
      if (!type || !ASSET_NAME.test(name)) continue;
      const bytes = await readFile(join(directory, name));
      const body = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const digest = createHash('sha256').update(bytes).digest();
      const etag = `"${digest.toString('base64url').slice(0, 22)}"`;
      files.set(name, { body, type, etag });
    }
    return files;
  };
  return {
    async onRequest({ request, url, endResponse }) {
      const path = url.pathname;
      let name: string;
      if (path === WEB_UI_PATH) name = 'index.html';
      else if (path.startsWith(WEB_UI_ASSETS_PREFIX))
        name = path.slice(WEB_UI_ASSETS_PREFIX.length);
      else return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(
          new Response('Method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } }),
        );
        return;
      }
      if (path === WEB_UI_SESSION_PATH) {
        endResponse(
          new Response(request.method === 'HEAD' ? null : session, {
            headers: {
              'content-type': 'application/json; charset=utf-8',
              'cache-control': 'no-store',
              ...securityHeaders(),
            },
          }),
        );
        return;
      }
      assets ??= load();
      const files = await assets;
      const asset = name === 'index.html' && path !== WEB_UI_PATH ? undefined : files.get(name);
      if (!asset || !ASSET_NAME.test(name)) {
        const message =
          files.size === 0 ? 'The web UI is not built: run `npm run build`\n' : 'Not found\n';
        endResponse(
          new Response(message, {
            status: 404,
            headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders() },
          }),
        );
        return;
      }
      const page = name === 'index.html';
      const headers = {
        'content-type': asset.type,
        etag: asset.etag,
        'cache-control': page ? 'no-cache' : 'public, max-age=31536000, immutable',
        ...securityHeaders(),
      };
      if (request.headers.get('if-none-match') === asset.etag) {
        endResponse(new Response(null, { status: 304, headers }));
        return;
      }
      endResponse(
        new Response(request.method === 'HEAD' ? null : asset.body, {
          status: 200,
          headers: { ...headers, 'content-length': String(asset.body.byteLength) },
        }),
      );
    },
  };
}
