/**
 * GraphiQL in a real browser: the real server process in development mode, `/graphiql` opened in
 * headless Chromium (the system's /usr/bin/chromium, driven by playwright-core; no browser is
 * downloaded). The page renders, opens on Keel's example query (GRAPHIQL_DEFAULT_QUERY) and runs
 * it as is, runs a query and a subscription against `/graphql` and shows the results, and every
 * request it makes goes to the Keel server itself (GraphiQL is self-hosted: no CDN, works offline).
 * Screenshots are left in the temporary directory (keel-graphiql-browser*.png) for a human to look at.
 * Needs /usr/bin/chromium (Debian's `chromium` package); without it the test fails and says so.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium, watchPage } from '../../support/browser.js';
import { GRAPHIQL_DEFAULT_QUERY } from '../../../src/api/graphiql.js';
import { signToken } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

const QUERY = '{ products(first: 1) { edges { node { id } } } }';
const SCREENSHOT = join(tmpdir(), 'keel-graphiql-browser.png');

const admin = signToken({ subject: 'ada', roles: ['admin'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });

describe('GraphiQL in headless Chromium (development, self-hosted)', () => {
  let database: TestDatabase | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    database = await createTestDatabase('graphiql_browser');
    server = await startApiServer({
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('graphiql-browser'),
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      CONSISTENCY_WAIT_MS: '30000',
    });
    // Absent: the test below fails and names it (a failure, never a skip).
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  it('renders the editor from Keel alone, runs a query and a subscription and shows the JSON results', async () => {
    requireChromium(browser);
    if (server === undefined || browser === undefined) throw new Error('not started');
    const origin = new URL(server.url).origin;
    // A product to find, read back with its consistency token so the list below already has it.
    const listed = await postGraphql(server.url, 'mutation { listProduct(input: { productId: "graphiql-tea", sku: "GTEA", name: "Green tea", price: 650, currency: "EUR" }) { consistencyToken } }', undefined, admin);
    const listing: unknown = listed.body.data?.listProduct;
    const token: unknown = typeof listing === 'object' && listing !== null ? Reflect.get(listing, 'consistencyToken') : undefined;
    if (typeof token !== 'string') throw new Error(`listProduct: ${JSON.stringify(listed.body)}`);
    const read = await postGraphql(server.url, 'query ($t: String) { product(id: "graphiql-tea", consistencyToken: $t) { id } }', { t: token });
    expect(read.body).toEqual({ data: { product: { id: 'graphiql-tea' } } });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const { requested, problems } = watchPage(page);
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    const result = page.locator('.graphiql-response .CodeMirror-code');
    /** Replaces the editor's text and runs it with Ctrl-Enter. */
    const run = async (operation: string): Promise<void> => {
      await editor.click();
      await page.keyboard.press('Control+A');
      // As a paste would: typing key by key would meet the editor's bracket auto-closing.
      await page.keyboard.insertText(operation);
      await expect.poll(async () => (await page.locator('.graphiql-query-editor .CodeMirror-code').innerText()).replace(/\s+/g, ' ')).toContain(operation.slice(0, 30));
      // GraphiQL parses the edited text after a 100 ms debounce; the parsed document decides
      // whether an operation is a subscription (WebSocket) or not (HTTP).
      await page.waitForTimeout(500);
      await page.keyboard.press('Control+Enter');
    };
    try {
      const response = await page.goto(`${server.url}/graphiql`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self';");

      // The editor renders: React, ReactDOM and GraphiQL loaded and ran under the page's CSP.
      await editor.waitFor({ state: 'visible', timeout: 20_000 });
      await page.locator('.graphiql-execute-button').waitFor({ state: 'visible' });

      // A first visit opens on Keel's example (GRAPHIQL_DEFAULT_QUERY), not GraphiQL's welcome text:
      // the catalog query and the comments on tokens and consistency tokens.
      // (CodeMirror shows an empty line as a zero-width space.)
      const editorText = async (): Promise<string> =>
        (await page.locator('.graphiql-query-editor .CodeMirror-line').allInnerTexts()).join('\n').replace(/\u200b/g, '').trimEnd();
      await expect.poll(editorText).toContain('query Products {');
      const shown = await editorText();
      expect(shown).toBe(GRAPHIQL_DEFAULT_QUERY.trimEnd());
      expect(shown).toContain('  products(first: 5) {');
      expect(shown).toContain('#   npm run --silent keel -- token --sub alice --role customer');
      expect(shown).toContain('#   {"authorization": "Bearer <token>"}');
      expect(shown).toContain('consistencyToken');
      expect(shown).not.toContain('Welcome to GraphiQL');

      // The schema arrived: the documentation explorer lists Keel's root types.
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      await page.locator('.graphiql-doc-explorer').getByText('ProductConnection').first().waitFor({ state: 'visible', timeout: 10_000 });
      // A dialog (it inserts a <style> element for its scroll lock: allowed by the CSP).
      await page.getByRole('button', { name: 'Open settings dialog' }).click();
      await page.getByRole('dialog').getByText('Persist headers').waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      // The example runs as it stands (the run button, no token): it lists the product above.
      await page.locator('.graphiql-execute-button').click();
      await result.getByText('"Green tea"').waitFor({ state: 'visible', timeout: 20_000 });
      // (All whitespace removed, the name's too.)
      expect((await result.innerText()).replace(/\s+/g, '')).toContain(
        '{"data":{"products":{"edges":[{"node":{"id":"graphiql-tea","name":"Greentea","price":650,"currency":"EUR","available":0}}]}}}',
      );

      // The example's result is still shown: wait for this query's own.
      await run(QUERY);
      await expect
        .poll(async () => (await result.innerText()).replace(/\s+/g, ''), { timeout: 20_000 })
        .toContain('{"data":{"products":{"edges":[{"node":{"id":"graphiql-tea"}}]}}}');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // A subscription goes over graphql-ws on /graphql: stock received after the listing arrives.
      const socket = page.waitForEvent('websocket', { timeout: 20_000 });
      await run(`subscription Watch { availabilityChanged(sku: "GTEA", after: "${token}") { sku received available } }`);
      expect((await socket).url()).toBe(`${origin.replace(/^http/, 'ws')}/graphql`);
      const received = await postGraphql(server.url, 'mutation { receiveStock(input: { sku: "GTEA", quantity: 7 }) { streamId } }', undefined, admin);
      expect(received.body.errors).toBeUndefined();
      await result.getByText('"received"').waitFor({ state: 'visible', timeout: 30_000 });
      expect((await result.innerText()).replace(/\s+/g, '')).toContain('{"data":{"availabilityChanged":{"sku":"GTEA","received":7,"available":7}}}');
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-subscription.png'), fullPage: true });

      // Every request stayed on the Keel server (data: URLs are inline content, not requests).
      const host = new URL(origin).host;
      expect(requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== host)).toEqual([]);
      expect(requested).toContain(`${origin}/graphiql`);
      expect(requested.filter((url) => url.startsWith(`${origin}/graphiql/assets/`))).toHaveLength(4);
      expect(requested).toContain(`${origin}/graphql`);
      // No CSP violation, failed load, HTTP error or script error on the way.
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
