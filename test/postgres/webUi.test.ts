// The web UI in a real browser (Debian's chromium) against a token-mode server on Postgres: a viewer
// sees the graph and no action, an editor tags, rolls back and deletes and sees changes arrive live;
// no CSP violation; the stream list's filters; "Import now" against the real test registry;
// layout times for 200 and 1,000 tags. Screenshots go to docs/images/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import * as esbuild from 'esbuild';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type WebSocketRoute,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { imageStreams, tags } from '../../src/db/schema.ts';
import { WEB_UI_CSP } from '../../src/server/webUi.ts';
import { webDocuments } from '../../web/build.mjs';
import { startTestApp, type TestApp } from '../support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { pushImage } from '../support/images.ts';
import { drainImports } from '../support/imports.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';
import { type BuiltWebUi, buildTestWebUi } from '../support/webUi.ts';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/images');
/** A browser on a machine shared with other work: generous, but bounded. */
const UI_TIMEOUT = { timeout: 30_000 };
const NS = 'webui';

const TAG = `mutation($input: TagInput!) { tag(input: $input) { __typename } }`;

describe('the web UI in a browser', { timeout: 240_000 }, () => {
  let app: TestApp;
  let built: BuiltWebUi;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Console messages and CSP violations of every page, checked at the end of each test. */
  const problems: string[] = [];

  beforeAll(async () => {
    built = await buildTestWebUi();
    app = await startTestApp({}, { webUiDirectory: built.directory });
    const db = app.database.db;
    const older = digestOf('webui-older');
    const newer = digestOf('webui-newer');
    for (const [digest, mode, layer] of [
      [older, 'dev', 'base'],
      [newer, 'prod', 'app'],
    ] as const) {
      await seedImage(db, {
        digest,
        dockerImageReference: `quay.io/acme/app@${digest}`,
        os: 'linux',
        architecture: 'amd64',
        size: 3_000_000,
        config: {
          env: ['PATH=/usr/bin', `MODE=${mode}`],
          labels: { team: 'shop' },
          cmd: ['serve'],
        },
        layers: [{ digest: digestOf(`layer-${layer}`), size: 2_000_000 }],
      });
    }
    const app1 = await seedStream(db, { namespace: NS, name: 'app' });
    const event = (digest: string, generation: number) => ({
      dockerImageReference: `quay.io/acme/app@${digest}`,
      image: digest,
      generation,
    });
    await seedTag(db, app1.id, {
      name: '1.0',
      from: { kind: 'DockerImage', name: 'quay.io/acme/app:1.0' },
      history: [event(older, 1), event(newer, 2)],
      specGeneration: 2,
    });
    await seedTag(db, app1.id, {
      name: 'stable',
      from: { kind: 'ImageStreamTag', name: '1.0' },
      history: [event(newer, 2)],
    });
    await seedTag(db, app1.id, {
      name: 'broken',
      from: { kind: 'DockerImage', name: 'quay.io/acme/app:missing' },
      conditions: [
        { status: 'False', reason: 'NotFound', message: 'manifest unknown', generation: 1 },
      ],
    });
    await seedTag(db, app1.id, {
      name: 'nightly',
      from: { kind: 'DockerImage', name: 'quay.io/acme/app:nightly' },
      importScheduled: true,
      history: [event(older, 1)],
    });
    // A permanent copy through the API records where it came from (the promotion edge).
    const promoted = await app.admin<{ tag: { __typename: string } }>(TAG, {
      input: { namespace: NS, source: 'app:1.0', destinations: ['app:prod'] },
    });
    expect(promoted.tag.__typename).toBe('TagPayload');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await app?.stop();
    built?.remove();
  });

  /** A fresh browser profile (its own sessionStorage) whose pages report console messages. */
  async function openPage(
    colorScheme: 'light' | 'dark' = 'light',
    server: TestApp = app,
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      colorScheme,
    });
    contexts.push(context);
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) =>
      new URL(route.request().url()).origin === origin
        ? route.continue()
        : route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || /security policy/i.test(message.text())) {
        problems.push(`console ${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    return page;
  }

  async function signIn(page: Page, token: string, server: TestApp = app): Promise<void> {
    const response = await page.goto(`${server.url}/`);
    expect(response!.headers()['content-security-policy']).toBe(WEB_UI_CSP);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('namespaces').waitFor(UI_TIMEOUT);
  }

  const node = (page: Page, tag: string) => page.locator(`[data-tag="${tag}"]`);

  it('shows a namespace viewer the graph and the tag, and offers no action', async () => {
    const viewer = await app.member(NS, 'IMAGE_PULLER', 'viewer');
    const page = await openPage();
    await signIn(page, viewer);
    const row = page.getByTestId('namespaces').locator('tr', { hasText: NS });
    await expect.poll(() => row.innerText(), UI_TIMEOUT).toMatch(/webui\s+viewer\s+1\s+5\s+1/);
    await row.getByRole('link', { name: NS }).click();
    await expect
      .poll(() => page.getByTestId('streams').innerText(), UI_TIMEOUT)
      .toContain(`registry.test:5000/${NS}/app`);
    await page.getByRole('link', { name: 'app', exact: true }).click();
    await node(page, 'stable').waitFor(UI_TIMEOUT);

    // Tracking, promotion and import edges; the failing import stands out.
    const edges = await page
      .locator('[data-edge]')
      .evaluateAll((all) =>
        all.map((edge) => `${edge.getAttribute('data-edge')} ${edge.getAttribute('class')}`),
      );
    expect(edges).toEqual(
      expect.arrayContaining([
        'tag:1.0>tag:stable edge tracks',
        'tag:1.0>tag:prod edge promoted',
        'ext:repo:quay.io/acme/app>tag:1.0 edge imports',
      ]),
    );
    expect(await node(page, 'broken').getAttribute('class')).toContain('failing');
    expect(await node(page, 'nightly').getAttribute('aria-label')).toContain('scheduled');

    // Keyboard: focus a node, walk with the arrows, open with Enter.
    await node(page, 'nightly').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-tag'))).toBe('1.0');
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('tag-panel');
    await expect.poll(() => panel.locator('h2').innerText(), UI_TIMEOUT).toBe('app:1.0');
    await expect.poll(() => page.getByTestId('history').locator('li').count(), UI_TIMEOUT).toBe(2);
    expect(await page.getByTestId('image').innerText()).toContain('linux/amd64');
    await page.getByLabel('Compare item 0').check();
    await page.getByLabel('Compare item 1').check();
    await expect
      .poll(() => page.getByTestId('diff').innerText(), UI_TIMEOUT)
      .toContain('MODE: dev → prod');
    expect(await page.getByRole('region', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Roll back here' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete tag' }).count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-viewer.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('lets an editor tag, roll back and delete, and shows every change live', async () => {
    const editor = await app.member(NS, 'EDITOR', 'editor');
    const page = await openPage('dark');
    // The page's graphql-ws sockets pass through here, so the test can drop them (see the end).
    const sockets: WebSocketRoute[] = [];
    let refuseSockets = false;
    await page.routeWebSocket(/\/graphql$/, (socket) => {
      if (refuseSockets) return socket.close({ code: 4000, reason: 'refused by the test' });
      socket.connectToServer();
      sockets.push(socket);
    });
    const streamLoads: string[] = [];
    page.on('request', (request) => {
      if (request.postData()?.includes('query StreamTags')) streamLoads.push(request.url());
    });
    await signIn(page, editor);
    const before = app.events.subscriberCount;
    await page.goto(`${app.url}/#/ns/${NS}/app/1.0`);
    await node(page, '1.0').waitFor(UI_TIMEOUT);
    await expect.poll(() => page.getByTestId('live').innerText(), UI_TIMEOUT).toBe('live');
    // Both subscriptions (tags and the stream) are registered with the server.
    await expect
      .poll(() => app.events.subscriberCount, UI_TIMEOUT)
      .toBeGreaterThanOrEqual(before + 2);

    const actions = page.getByRole('region', { name: 'Actions' });
    // A typed error is shown next to the field it names.
    await actions.getByLabel('Source', { exact: true }).fill('app:nope');
    await actions.getByLabel('New tag(s)').fill('qa');
    await actions.getByRole('button', { name: 'Tag', exact: true }).click();
    await expect
      .poll(() => actions.getByRole('alert').innerText(), UI_TIMEOUT)
      .toMatch(/NOT_FOUND|nope/);

    // Tag through the UI: the new node arrives through the subscription (no reload).
    await actions.getByLabel('Source', { exact: true }).fill('app:1.0');
    await actions.getByRole('button', { name: 'Tag', exact: true }).click();
    await node(page, 'qa').waitFor(UI_TIMEOUT);
    expect(await node(page, 'qa').getAttribute('class')).toContain('changed');

    // Roll 1.0 back to its older item: a third history item appears in the open panel.
    const history = page.getByTestId('history');
    await history.locator('li').nth(1).getByRole('button', { name: 'Roll back here' }).click();
    await history.getByRole('button', { name: 'Confirm rollback' }).click();
    await expect.poll(() => history.locator('li').count(), UI_TIMEOUT).toBe(3);

    // A change made elsewhere (the API, as an admin) shows up live.
    await app.admin(TAG, {
      input: { namespace: NS, source: 'app:1.0', destinations: ['app:hotfix'], alias: true },
    });
    await node(page, 'hotfix').waitFor(UI_TIMEOUT);
    await page.locator('[data-edge="tag:1.0>tag:hotfix"]').waitFor(UI_TIMEOUT);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-editor-dark.png') });

    // Delete qa with confirmation: its node leaves the graph.
    await node(page, 'qa').click();
    await expect.poll(() => page.getByTestId('tag-panel').locator('h2').innerText()).toBe('app:qa');
    await page.getByRole('button', { name: 'Delete tag' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await expect.poll(() => node(page, 'qa').count(), UI_TIMEOUT).toBe(0);

    // The connection drops and stays down while a change is made: once it is back, the page
    // resubscribes from its last cursor and the server replays the change (no reload).
    const loads = streamLoads.length;
    refuseSockets = true;
    for (const socket of sockets) await socket.close({ code: 4000, reason: 'dropped by the test' });
    await expect.poll(() => page.getByTestId('live').innerText(), UI_TIMEOUT).toBe('reconnecting');
    await app.admin(TAG, {
      input: { namespace: NS, source: 'app:1.0', destinations: ['app:while-away'] },
    });
    expect(await node(page, 'while-away').count()).toBe(0);
    refuseSockets = false;
    await node(page, 'while-away').waitFor(UI_TIMEOUT);
    await expect.poll(() => page.getByTestId('live').innerText(), UI_TIMEOUT).toBe('live');
    expect(streamLoads.length).toBe(loads);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('filters the stream list to streams with scheduled imports or recent changes', async () => {
    const ns = 'webui-lists';
    const db = app.database.db;
    const digest = digestOf('webui-lists');
    await seedImage(db, { digest, dockerImageReference: `quay.io/acme/lists@${digest}` });
    const history = [
      { dockerImageReference: `quay.io/acme/lists@${digest}`, image: digest, generation: 1 },
    ];
    const seeded: Record<string, number> = {};
    for (const [name, scheduled] of [
      ['ticking', true],
      ['quiet', false],
      ['fresh', false],
    ] as const) {
      const stream = await seedStream(db, { namespace: ns, name });
      seeded[name] = stream.id;
      await seedTag(db, stream.id, {
        name: 'latest',
        from: { kind: 'DockerImage', name: `quay.io/acme/${name}:latest` },
        importScheduled: scheduled,
        history,
      });
    }
    // ticking and quiet last changed three days ago; fresh just now.
    const old = new Date(Date.now() - 3 * 86_400_000);
    const oldIds = [seeded.ticking!, seeded.quiet!];
    await db.update(tags).set({ updatedAt: old }).where(inArray(tags.streamId, oldIds));
    await db.update(imageStreams).set({ updatedAt: old }).where(inArray(imageStreams.id, oldIds));
    const [quiet] = await db.select().from(tags).where(eq(tags.streamId, seeded.quiet!));
    expect(quiet!.updatedAt.getTime()).toBe(old.getTime());

    const viewer = await app.member(ns, 'IMAGE_PULLER');
    const page = await openPage();
    await signIn(page, viewer);
    await page.goto(`${app.url}/#/ns/${ns}`);
    const names = () =>
      page
        .getByTestId('streams')
        .locator('tbody tr td:first-child')
        .evaluateAll((cells) => cells.map((cell) => cell.textContent));
    await expect.poll(names, UI_TIMEOUT).toEqual(['fresh', 'quiet', 'ticking']);
    await page.getByLabel('scheduled imports only').check();
    await expect.poll(names, UI_TIMEOUT).toEqual(['ticking']);
    await page.getByLabel('Changed within').selectOption('last 24 hours');
    await expect.poll(names, UI_TIMEOUT).toEqual([]);
    await page.getByLabel('scheduled imports only').uncheck();
    await expect.poll(names, UI_TIMEOUT).toEqual(['fresh']);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-stream-filters.png') });
    await page.getByLabel('Changed within').selectOption('last 7 days');
    await expect.poll(names, UI_TIMEOUT).toEqual(['fresh', 'quiet', 'ticking']);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('imports a new image from a real registry with "Import now" and shows the history item', async () => {
    const ns = 'webui-registry';
    const registryUrl = inject('registryUrl');
    const repository = `webui-${process.pid}-${Date.now().toString(36)}/shop`;
    const source = `${new URL(registryUrl).host}/${repository}:latest`;
    const first = await pushImage(registryUrl, repository, 'latest', { content: 'shop one' });
    const editor = await app.member(ns, 'EDITOR', 'shop-releaser');
    await app.stream(ns, 'shop');
    // The tag is created from the pushed image (through the API) and imported by the worker.
    const tagged = await app.as(editor).graphql<{ tag: { __typename: string } }>(TAG, {
      input: { namespace: ns, source, destinations: ['shop:latest'], insecure: true },
    });
    expect(tagged.data?.tag.__typename).toBe('TagPayload');
    await expect.poll(() => drainImports(app), UI_TIMEOUT).toBeGreaterThan(0);

    const page = await openPage();
    await signIn(page, editor);
    await page.goto(`${app.url}/#/ns/${ns}/shop/latest`);
    const history = page.getByTestId('history');
    await expect.poll(() => history.locator('li').count(), UI_TIMEOUT).toBe(1);
    expect(await history.innerText()).toContain(first.digest.slice(7, 19));
    await expect.poll(() => page.getByTestId('live').innerText(), UI_TIMEOUT).toBe('live');

    // A new image under the same registry tag; "Import now" queues the import, the worker runs
    // it, and the new history item arrives through the subscription.
    const second = await pushImage(registryUrl, repository, 'latest', { content: 'shop two' });
    await page.getByRole('button', { name: 'Import now' }).click();
    await expect.poll(() => drainImports(app), UI_TIMEOUT).toBeGreaterThan(0);
    await expect.poll(() => history.locator('li').count(), UI_TIMEOUT).toBe(2);
    expect(await history.locator('li').first().innerText()).toContain(second.digest.slice(7, 19));
    // Who made it: the editor who clicked, through the import job the click queued.
    expect(await history.locator('li').first().getByTestId('actor').innerText()).toBe(
      'by shop-releaser (import-job)',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-import-now.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('works against a gateway that runs trusted documents only, with the built manifest', async () => {
    // The manifest `npm run build` writes to dist/web-documents.json, on a second gateway over
    // the same database.
    const manifest = join(built.directory, '..', 'web-documents.json');
    writeFileSync(manifest, JSON.stringify(await webDocuments(esbuild)));
    const trusted = await startTestApp(
      { trustedDocuments: loadConfig({ TAGRAPH_TRUSTED_DOCUMENTS: manifest }).trustedDocuments },
      { webUiDirectory: built.directory },
    );
    try {
      const viewer = await app.member(NS, 'IMAGE_PULLER');
      const page = await openPage('light', trusted);
      const sent: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST') sent.push(request.postData() ?? '');
      });
      await signIn(page, viewer, trusted);
      await page.goto(`${trusted.url}/#/ns/${NS}/app/1.0`);
      await node(page, 'stable').waitFor(UI_TIMEOUT);
      await expect.poll(() => page.getByTestId('live').innerText(), UI_TIMEOUT).toBe('live');
      await expect
        .poll(() => page.getByTestId('history').locator('li').count(), UI_TIMEOUT)
        .toBeGreaterThan(1);
      // Every request named its document by hash, none sent a text.
      expect(sent.length).toBeGreaterThan(2);
      for (const body of sent) {
        expect(JSON.parse(body)).toMatchObject({ extensions: { persistedQuery: { version: 1 } } });
        expect(JSON.parse(body)).not.toHaveProperty('query');
      }
      // A document of the caller's own is refused there.
      const own = await page.evaluate(async (token) => {
        const response = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { subject } }' }),
        });
        return (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      }, viewer);
      expect(own.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
      expect(problems).toEqual([]);
      await page.context().close();
    } finally {
      await trusted.stop();
    }
  });

  it('lays out 200 tags with dagre and 1,000 with the layered fallback, and says how long', async () => {
    const db = app.database.db;
    const digest = digestOf('webui-big');
    await seedImage(db, { digest, dockerImageReference: `quay.io/acme/big@${digest}` });
    const admin = app.adminToken;
    const page = await openPage();
    await signIn(page, admin);
    const figures: Record<string, unknown>[] = [];
    for (const count of [200, 1000]) {
      const stream = await seedStream(db, { namespace: NS, name: `big${count}` });
      for (let i = 0; i < count; i++) {
        // Every fifth tag tracks the one before: chains as well as independent tags.
        const tracks = i % 5 !== 0;
        await seedTag(db, stream.id, {
          name: `v${String(i).padStart(4, '0')}`,
          from: tracks
            ? { kind: 'ImageStreamTag', name: `v${String(i - 1).padStart(4, '0')}` }
            : { kind: 'DockerImage', name: `quay.io/acme/big:${i}` },
          history: [
            { dockerImageReference: `quay.io/acme/big@${digest}`, image: digest, generation: 1 },
          ],
        });
      }
      for (const engine of count === 1000 ? ['auto', 'dagre'] : ['auto']) {
        await page.evaluate((chosen) => {
          if (chosen === 'auto') sessionStorage.removeItem('tagraph.layout');
          else sessionStorage.setItem('tagraph.layout', chosen);
        }, engine);
        await page.goto(`${app.url}/#/`);
        await page.getByTestId('namespaces').waitFor(UI_TIMEOUT);
        const started = Date.now();
        await page.goto(`${app.url}/#/ns/${NS}/big${count}`);
        const graph = page.getByTestId('graph');
        await graph.waitFor({ timeout: 120_000 });
        const shown = Date.now() - started;
        const nodes = Number(await graph.getAttribute('data-node-count'));
        expect(nodes).toBe(count + 1);
        figures.push({
          tags: count,
          engine: await graph.getAttribute('data-layout-engine'),
          layoutMs: Number(await graph.getAttribute('data-layout-ms')),
          openToGraphMs: shown,
        });
      }
    }
    console.log(`web UI layout: ${JSON.stringify(figures)}`);
    expect(figures[0]).toMatchObject({ tags: 200, engine: 'dagre' });
    expect(figures[1]).toMatchObject({ tags: 1000, engine: 'layered' });
    // 200 tags lay out within a second (the bar), on a busy shared machine.
    expect(figures[0]!.layoutMs as number).toBeLessThan(1000);
    await page.goto(`${app.url}/#/ns/${NS}/big200`);
    await page.getByTestId('graph').waitFor(UI_TIMEOUT);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-200-tags.png') });
    expect(problems).toEqual([]);
  });
});
