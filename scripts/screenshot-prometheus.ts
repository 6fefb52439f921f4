/**
 * Writes docs/images/prometheus-freshness.png: Prometheus's own graph page showing each
 * projection's p99 freshness (append → read-model commit) while a load of orders runs.
 *
 *   node scripts/with-services.mjs npx tsx scripts/screenshot-prometheus.ts
 *
 * It starts a real Keel process (src/main.ts, every role in one process) on a database of its own,
 * a real Prometheus scraping it every second (test/support/prometheus.ts), places a few hundred
 * orders over about 30 s through the GraphQL API (the process manager reserves, pays and confirms
 * each), then opens Prometheus's graph page in headless Chromium (/usr/bin/chromium through
 * playwright-core) and takes the screenshot. Debian's Prometheus ships the classic web UI only
 * (`/classic/graph`; `/graph` serves the same page), so that is the page shown.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '../src/api/tokens.js';
import { launchChromium, requireChromium } from '../test/support/browser.js';
import { E2E_JWT_SECRET, postGraphql, startApiServer } from '../test/support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../test/support/database.js';
import { startPrometheus } from '../test/support/prometheus.js';

const OUT = fileURLToPath(new URL('../docs/images/prometheus-freshness.png', import.meta.url));
const FRESHNESS_P99 = 'histogram_quantile(0.99, sum by (le, projection) (rate(keel_projection_freshness_seconds_bucket[30s])))';
const LOAD_SECONDS = 30;
const ORDERS_PER_SECOND = 10;
const SKUS = ['LAMP', 'KETTLE', 'TOASTER', 'CHAIR'];

const log = (message: string): void => {
  process.stderr.write(`[screenshot] ${message}\n`);
};

const admin = signToken({ subject: 'ada', roles: ['admin'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });
const customers = ['alice', 'bob', 'carol', 'dan', 'erin'].map((subject) => signToken({ subject, roles: ['customer'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 }));

const must = async (url: string, query: string, input: Record<string, unknown>, token: string): Promise<void> => {
  const response = await postGraphql(url, query, { input }, token);
  if (response.body.errors !== undefined) throw new Error(`${query}: ${JSON.stringify(response.body.errors)}`);
};

const database = await createTestDatabase('screenshot_prometheus');
const server = await startApiServer({
  DATABASE_URL: database.url,
  REDIS_URL: redisTestUrl(),
  REDIS_KEY_PREFIX: redisTestPrefix('screenshot-prometheus'),
  PAYMENT_FAKE_LATENCY_MS: '20',
  PAYMENT_FAKE_FAILURE_RATE: '0',
  RATE_LIMIT_MAX: '100000',
});
const prometheus = await startPrometheus({ targets: [new URL(server.url).host], job: 'keel' });
try {
  log(`Keel at ${server.url}, Prometheus at ${prometheus.url}`);
  for (const [i, sku] of SKUS.entries()) {
    const productId = sku.toLowerCase();
    await must(server.url, 'mutation ListProduct($input: ListProductInput!) { listProduct(input: $input) { position } }', { productId, sku, name: sku, price: 1000 + i * 500, currency: 'EUR' }, admin);
    await must(server.url, 'mutation ReceiveStock($input: ReceiveStockInput!) { receiveStock(input: $input) { position } }', { sku, quantity: 100_000 }, admin);
  }

  // The load: ORDERS_PER_SECOND orders a second for LOAD_SECONDS, each from one of a few customers.
  const place = 'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
  let placed = 0;
  const started = Date.now();
  const inFlight: Array<Promise<void>> = [];
  for (let tick = 0; Date.now() - started < LOAD_SECONDS * 1000; tick += 1) {
    for (let k = 0; k < ORDERS_PER_SECOND / 5; k += 1) {
      const n = placed;
      placed += 1;
      const skuIndex = n % SKUS.length;
      const sku = SKUS[skuIndex] ?? 'LAMP';
      const customer = customers[n % customers.length] ?? admin;
      inFlight.push(must(server.url, place, { lines: [{ sku, quantity: 1 + (n % 3), unitPrice: 1000 + skuIndex * 500 }], currency: 'EUR' }, customer));
    }
    await sleep(Math.max(0, started + (tick + 1) * 200 - Date.now()));
  }
  await Promise.all(inFlight);
  log(`placed ${placed} orders in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // A few more scrapes, so the graph's right edge shows the load ending.
  await sleep(8_000);
  const [scrapes] = await prometheus.query('count_over_time(up{job="keel"}[1m])');
  const [good] = await prometheus.query('sum_over_time(up{job="keel"}[1m])');
  log(`scrapes in the last minute: ${scrapes?.value ?? 0}, successful: ${good?.value ?? 0}`);

  const browser = requireChromium(await launchChromium());
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const params = new URLSearchParams({ 'g0.expr': FRESHNESS_P99, 'g0.tab': '0', 'g0.range_input': '45s', 'g0.stacked': '0' });
    await page.goto(`${prometheus.url}/classic/graph?${params.toString()}`);
    await page.waitForSelector('.graph svg path', { timeout: 20_000 });
    await sleep(1_000);
    await page.screenshot({ path: OUT, fullPage: false });
    log(`wrote ${OUT}`);
  } finally {
    await browser.close();
  }
} finally {
  await prometheus.stop();
  await server.stop();
  await database.drop();
}
