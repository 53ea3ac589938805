// /metrics: bounded label sets (no URL, no variables, a capped set of operation names), behind
// a token when one is configured, or on a listener of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPERATION_NAMES } from '../../src/metrics.ts';
import { bearer, reservePort, startTestApp, type TestApp } from '../support/app.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** The label sets of every GraphQL series (graphql_*), one string per series. */
function graphqlSeries(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('graphql_'))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));
}

describe('metrics with a token', () => {
  let app: TestApp;
  let nobody: string;

  beforeAll(async () => {
    app = await startTestApp({ metrics: { token: METRICS_TOKEN, port: null } });
    // A user with no roles at all: it may still run `me`.
    nobody = (await app.user('no-roles')).token;
  });

  afterAll(async () => {
    await app?.stop();
  });

  // In process, as app.call is (a keep-alive socket left idle through the long loop below was
  // reset when reused).
  const scrape = async () => {
    const response = await app.yoga.fetch(`${app.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    return response.text();
  };

  it('refuses /metrics without the token, or with another one', async () => {
    const none = await fetch(`${app.url}/metrics`);
    expect(none.status).toBe(401);
    expect(await none.text()).not.toMatch(/graphql_|tagraph_/);
    const wrong = await fetch(`${app.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    const member = await fetch(`${app.url}/metrics`, { headers: bearer(nobody) });
    expect(member.status).toBe(401);
    expect(await scrape()).toMatch(/^tagraph_db_pool_size \d+/m);
  });

  it('keeps 1,000 invented operation names from growing the series', async () => {
    const before = graphqlSeries(await scrape()).length;
    for (let start = 0; start < 1000; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          app.call(nobody, `query Invented${start + i} { me { subject } }`),
        ),
      );
    }
    const series = graphqlSeries(await scrape());
    const names = new Set(
      series.map((s) => /operationName="([^"]*)"/.exec(s)?.[1]).filter((n) => n !== undefined),
    );
    console.info(
      `1,000 operation names: ${names.size} label values, ${series.length - before} new series`,
    );
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 2);
    expect(names.has('other')).toBe(true);
    // Per name: a counter, a histogram of each kind (buckets, sum, count): a few dozen series.
    expect(series.length - before).toBeLessThan((MAX_OPERATION_NAMES + 2) * 40);
  });

  it('never labels a series with the URL or the variables of a request', async () => {
    const secret = 'hunter2-very-secret-value';
    const query = encodeURIComponent('query Secretive($s: String) { me { subject } }');
    const variables = encodeURIComponent(JSON.stringify({ s: secret }));
    const response = await app.yoga.fetch(
      `${app.url}/graphql?query=${query}&variables=${variables}`,
      {
        headers: bearer(nobody),
      },
    );
    expect(response.status).toBe(200);
    // A name the document does not hold is not a label either.
    await app.yoga.fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(nobody) },
      body: JSON.stringify({ query: '{ me { subject } }', operationName: `${secret}-name` }),
    });
    const text = await scrape();
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/url="/);
    expect(text).not.toContain('/graphql?');
  });
});

describe('metrics on a port of their own', () => {
  let app: TestApp;
  let port: number;

  beforeAll(async () => {
    port = await reservePort();
    app = await startTestApp({ metrics: { token: null, port } });
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('serves /metrics there and not on the public listener', async () => {
    const own = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/^tagraph_db_pool_size \d+/m);
    const publicOne = await fetch(`${app.url}/metrics`);
    expect(publicOne.status).toBe(404);
    const graphqlThere = await fetch(`http://127.0.0.1:${port}/graphql`);
    expect(graphqlThere.status).toBe(404);
  });
});
