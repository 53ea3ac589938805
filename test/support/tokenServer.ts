// A Docker token service (a registry's `auth.token` realm) for tests: checks Basic credentials or
// a refresh token, signs ES256 JWTs that docker-registry accepts, and records every request.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';
import type { RegistryOptions } from './registry.ts';

const run = promisify(execFile);

export interface TokenServerOptions {
  username: string;
  password: string;
  /** Accepted as `grant_type=refresh_token` in a POST (the OAuth2 form of the token flow). */
  refreshToken?: string;
  /** @default 300 */
  expiresInSeconds?: number;
}

export interface TokenRequest {
  method: string;
  /** `repository:ns/app:pull`, … as requested. */
  scopes: string[];
  authorization: string | undefined;
}

export interface TokenServer {
  /** Pass to `startRegistry({ tokenAuth })`. */
  tokenAuth: NonNullable<RegistryOptions['tokenAuth']>;
  /** Every token request, in order, including refused ones. */
  requests: TokenRequest[];
  stop(): Promise<void>;
}

const SERVICE = 'test-registry';
const ISSUER = 'test-issuer';

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tagraph-token-'));
  const keyPath = join(dir, 'issuer.key');
  const certPath = join(dir, 'issuer.crt');
  // The registry finds the key by the `x5c` header; a self-signed cert in its bundle is enough.
  // biome-ignore format: argv pairs read better packed
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', `/CN=${ISSUER}`,
  ]);
  const key = await importPKCS8(await readFile(keyPath, 'utf8'), 'ES256');
  const certDer = (await readFile(certPath, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
  const expiresIn = options.expiresInSeconds ?? 300;
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const requests: TokenRequest[] = [];

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    let scopes = url.searchParams.getAll('scope');
    let allowed = req.headers.authorization === basic;
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readText(req));
      scopes = form.getAll('scope');
      allowed =
        options.refreshToken !== undefined &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === options.refreshToken;
    }
    scopes = scopes.flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ method: req.method ?? '', scopes, authorization: req.headers.authorization });
    if (url.pathname !== '/token' || !allowed) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      // Grants whatever was asked for: these tests are about the client, not authorization.
      access: scopes.map((scope) => {
        const parts = scope.split(':');
        return {
          type: parts[0],
          name: parts.slice(1, -1).join(':'),
          actions: parts.at(-1)!.split(','),
        };
      }),
    })
      .setProtectedHeader({ alg: 'ES256', x5c: [certDer] })
      .setIssuer(ISSUER)
      .setAudience(SERVICE)
      .setSubject(options.username)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + expiresIn)
      .setJti(randomUUID())
      .sign(key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    tokenAuth: {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle: certPath,
    },
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function readText(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}
