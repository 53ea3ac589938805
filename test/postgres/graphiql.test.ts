// GraphiQL in a real browser (Debian's chromium): it loads with no network but the server's own,
// and a token-mode user who puts a token in its headers editor sees the tag graph.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

/** A 9 MB page and a browser on a busy machine: generous, but bounded. */
const PAGE_TIMEOUT = { timeout: 30_000 };

describe('GraphiQL in a browser', { timeout: 120_000 }, () => {
  let app: TestApp;
  let context: BrowserContext;
  let profile: string;
  /** Every request the page tried to send elsewhere than the server (all are blocked). */
  const foreign: string[] = [];

  beforeAll(async () => {
    // As an operator turns it on in production: token mode, GraphiQL on, introspection off.
    app = await startTestApp({ graphiql: true });
    const db = app.database.db;
    const digest = digestOf('graphiql-ruby');
    const reference = `docker.io/library/ruby@${digest}`;
    await seedImage(db, { digest, dockerImageReference: reference });
    const ruby = await seedStream(db, { namespace: 'web', name: 'ruby' });
    const event = { dockerImageReference: reference, image: digest, generation: 1 };
    await seedTag(db, ruby.id, {
      name: '3.3',
      from: { kind: 'DockerImage', name: 'docker.io/library/ruby:3.3' },
      history: [event],
    });
    await seedTag(db, ruby.id, {
      name: 'stable',
      from: { kind: 'ImageStreamTag', name: '3.3' },
      history: [event],
    });

    profile = mkdtempSync(join(tmpdir(), 'tagraph-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', ...CHROMIUM_ARGS],
      // Tall enough for Monaco to render the whole result (it draws only the visible lines).
      viewport: { width: 1280, height: 2000 },
    });
    const origin = new URL(app.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await app?.stop();
  });

  it('loads with no request to another origin and shows the tag graph to a token holder', async () => {
    const token = await app.member('web', 'IMAGE_PULLER', 'alice');
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${app.url}/graphql`);
    // Blocked requests leave the page at "Loading…": say which ones rather than time out.
    expect(foreign).toEqual([]);
    await expect.poll(() => page.title(), PAGE_TIMEOUT).toBe('tagraph');
    const editors = page.locator('.graphiql-editors');
    await expect
      .poll(() => text(editors.locator('.graphiql-query-editor')), PAGE_TIMEOUT)
      .toContain('TagGraph');

    // What a user does: open the Headers tab, paste the token there, run the query.
    await page.getByRole('button', { name: 'Headers' }).click();
    await page.locator('.graphiql-editor-tool .graphiql-editor').last().click();
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await page.locator('.graphiql-execute-button').click();

    const result = page.locator('.graphiql-response');
    await expect.poll(() => text(result), PAGE_TIMEOUT).toContain('"subject": "alice"');
    const shown = await text(result);
    expect(shown).toContain('"name": "ruby"');
    expect(shown).toMatch(/"name": "stable",\s*"follows": \{\s*"name": "3.3"/);
    expect(shown).not.toContain('"errors"');
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** What an editor shows (Monaco renders spaces as no-break spaces). */
async function text(locator: Locator): Promise<string> {
  return (await locator.innerText()).replace(/\u00a0/g, ' ');
}
