// The web UI's routes over real HTTP: the page and its assets, their CSP and caching headers, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_UI_CSP } from '../../src/server/webUi.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type BuiltWebUi, buildTestWebUi } from '../support/webUi.ts';

describe('web UI routes', () => {
  let app: TestApp;
  let off: TestApp;
  let missing: TestApp;
  let built: BuiltWebUi;

  beforeAll(async () => {
    built = await buildTestWebUi();
    app = await startTestApp({}, { webUiDirectory: built.directory });
    off = await startTestApp({ webUi: false }, { webUiDirectory: built.directory });
    missing = await startTestApp({}, { webUiDirectory: `${built.directory}-absent` });
  });

  afterAll(async () => {
    await app?.stop();
    await off?.stop();
    await missing?.stop();
    built?.remove();
  });

  it('serves the page at / with a strict CSP, revalidated on every load', async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy');
    expect(csp).toBe(WEB_UI_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const page = await response.text();
    // No inline script: every <script> names a file of /ui/.
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/ui\/app-[A-Z0-9]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(page).not.toMatch(/\sstyle=|<style/);

    const etag = response.headers.get('etag')!;
    const again = await fetch(`${app.url}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the hashed assets for a year, with their types', async () => {
    const page = await (await fetch(`${app.url}/`)).text();
    const script = page.match(/src="(\/ui\/[^"]+)"/)![1]!;
    const style = page.match(/href="(\/ui\/[^"]+)"/)![1]!;
    for (const [path, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [style, 'text/css; charset=utf-8'],
    ] as const) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-security-policy')).toBe(WEB_UI_CSP);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    const head = await fetch(`${app.url}${script}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('tells the page the auth mode, never cached', async () => {
    const response = await fetch(`${app.url}/ui/session.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ auth: 'token', trustedDocuments: false });
  });

  it('answers 404 for unknown or traversing asset names and 405 for writes', async () => {
    for (const path of [
      '/ui/nope.js',
      '/ui/index.html',
      '/ui/../package.json',
      '/ui/%2e%2e%2fpackage.json',
      '/ui/',
    ]) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status, path).toBe(404);
    }
    const post = await fetch(`${app.url}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('leaves /graphql and /healthz as they were', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const answer = await app.as(app.adminToken).graphql('{ me { subject } }');
    expect(answer.errors).toBeUndefined();
  });

  it('is not served when TAGRAPH_WEB_UI is off, and says how to build it when absent', async () => {
    expect((await fetch(`${off.url}/`)).status).toBe(404);
    expect((await fetch(`${off.url}/ui/x.js`)).status).toBe(404);
    const absent = await fetch(`${missing.url}/`);
    expect(absent.status).toBe(404);
    expect(await absent.text()).toContain('npm run build');
  });
});
