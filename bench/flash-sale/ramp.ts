/**
 * The overload load generator, a process of its own:
 *
 *   node --import tsx bench/flash-sale/ramp.ts <settings.json>
 *
 * Open loop: checkouts arrive at a fixed rate whatever the answers (each a new customer with a key
 * of their own), so a slow server meets the same arrivals as a fast one, and latency is counted
 * from each request's scheduled time (no coordinated omission). A ramp of rising rates finds the
 * knee, the first rate at which p99 passes the limit or a request fails; then twice the knee for a
 * while (the server should shed with coded errors, its accepted requests' p99 bounded); then half
 * the sustainable rate, to see it recover without a restart. A step past the limit counts as the
 * knee only when the next one is past it too (one step's p99 can spike on a shared machine).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '../../src/api/tokens.js';
import { graphqlClient } from './client.js';
import type { BuyerRecord, RampPhase, RampResult, RampSettings, Sample } from './protocol.js';
import { percentile } from './summary.js';

const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }`;

const settingsFile = process.argv[2];
if (settingsFile === undefined) {
  console.error('usage: ramp.ts <settings.json>');
  process.exit(2);
}
const settings: RampSettings = JSON.parse(readFileSync(settingsFile, 'utf8')) as RampSettings;
const clients = settings.apis.map((url) => graphqlClient(url, settings.connectionsPerApi));
const startedAt = Date.now();
const records: BuyerRecord[] = [];
const checkouts: Sample[] = [];

/** Sends `rate` checkouts a second for `seconds`, each timed from its scheduled start. */
const phase = async (name: string, rate: number, seconds: number): Promise<RampPhase> => {
  const samples: Sample[] = [];
  const count = Math.max(1, Math.round(rate * seconds));
  const phaseStart = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = phaseStart + (i * 1_000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    const n = records.length;
    const customer = `${settings.customerPrefix}${n}`;
    const record: BuyerRecord = { n, customer, key: `ramp-${n}`, api: n % clients.length, via: 'poll', behaviour: 'plain', attempts: 1, errors: [], notes: [], told: 'unknown' };
    records.push(record);
    const token = signToken({ subject: customer, roles: ['customer'], secret: settings.jwtSecret, expiresInSeconds: 3_600 });
    const client = clients[record.api];
    if (client === undefined) throw new Error('no API process');
    inFlight.push(
      client.post(PLACE_ORDER, { input: { idempotencyKey: record.key, currency: settings.currency, lines: [{ sku: settings.sku, quantity: 1, unitPrice: settings.price }] } }, token, 30_000).then((answer) => {
        const sample = { t: Date.now() - startedAt, latencyMs: Date.now() - due, code: answer.kind === 'data' ? 'ok' : answer.code };
        samples.push(sample);
        checkouts.push(sample);
        if (answer.kind === 'data') {
          const placed = answer.data.placeOrder;
          if (typeof placed === 'object' && placed !== null && 'orderId' in placed && typeof placed.orderId === 'string') record.orderId = placed.orderId;
          record.told = 'accepted';
          record.acceptedAt = sample.t;
        } else {
          record.told = answer.kind === 'transport' ? 'error' : 'refused';
          record.reason = sample.code;
          if (answer.kind === 'refused' && answer.retryAfterSeconds !== undefined) record.notes.push(`retry-after ${answer.retryAfterSeconds}`);
        }
        record.finalAt = sample.t;
      }),
    );
  }
  await Promise.all(inFlight);
  const ok = samples.filter((s) => s.code === 'ok').map((s) => s.latencyMs);
  const failed: Record<string, number> = {};
  for (const s of samples) if (s.code !== 'ok') failed[s.code] = (failed[s.code] ?? 0) + 1;
  const result: RampPhase = {
    name,
    startMs: phaseStart - startedAt,
    rate,
    seconds,
    sent: samples.length,
    accepted: ok.length,
    acceptedPerSecond: Math.round(ok.length / seconds),
    failed,
    p50Ms: percentile(ok, 50),
    p99Ms: percentile(ok, 99),
    allP99Ms: percentile(samples.map((s) => s.latencyMs), 99),
  };
  process.stderr.write(`  ${name}: ${rate}/s for ${seconds} s → accepted ${result.accepted}/${result.sent}, p99 ${result.p99Ms ?? '-'} ms, failed ${JSON.stringify(failed)}\n`);
  return result;
};

const steps: RampPhase[] = [];
let knee: RampPhase | undefined;
const pastLimit = (step: RampPhase): boolean => (step.p99Ms ?? Infinity) > settings.p99LimitMs || Object.values(step.failed).reduce((a, b) => a + b, 0) > 0;
// A step past the limit is the knee once the next (higher) rate is past it too: on a shared
// 2-core machine one step's p99 can spike (a GC, another process) while the rate still holds.
let candidate: RampPhase | undefined;
for (const rate of settings.rates) {
  const step = await phase(`ramp ${rate}/s`, rate, settings.stepSeconds);
  steps.push(step);
  if (pastLimit(step)) {
    if (candidate !== undefined) {
      knee = candidate;
      break;
    }
    candidate = step;
  } else candidate = undefined;
  await sleep(settings.pauseMs);
}
knee ??= candidate;
// The knee is the first rate past the limit; the last rate below it that held is the sustainable one.
const kneeIndex = knee === undefined ? steps.length : steps.indexOf(knee);
const sustainable = steps.slice(0, kneeIndex).filter((s) => !pastLimit(s)).at(-1)?.rate ?? settings.rates[0] ?? 1;
const kneeRate = knee?.rate ?? sustainable;
await sleep(settings.pauseMs);
const overload = await phase(`overload ${2 * kneeRate}/s`, 2 * kneeRate, settings.overloadSeconds);
const recovery = await phase(`recovery ${Math.round(sustainable / 2)}/s`, Math.max(1, Math.round(sustainable / 2)), settings.recoverySeconds);
const result: RampResult = { steps, kneeRate: knee?.rate ?? null, sustainableRate: sustainable, overload, recovery, records, checkouts };
writeFileSync(settings.resultFile, JSON.stringify(result));
await Promise.all(clients.map((c) => c.close()));
