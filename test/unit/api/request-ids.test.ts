/**
 * Request ids are the correlation ids of the commands a request sends, so they must be unique
 * across processes and restarts. fastify's default is a per-process counter: the first request of
 * every process was `req-1`, and `keel events --correlation req-1` mixed unrelated flows.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import { createLogger } from '../../../src/platform/logger.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The first request of a fresh app ("a process"): its log lines, parsed. */
const firstRequestLines = async (): Promise<Record<string, unknown>[]> => {
  const lines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = buildApp({ logger: createLogger({ logLevel: 'info', nodeEnv: 'test' }, capture), health: async () => ({ ok: 'ok' }) });
  // /health and /ready log nothing (probes would flood the log): any other route does.
  await app.inject({ url: '/metrics', headers: { 'request-id': 'chosen-by-the-client' } });
  await app.close();
  return lines;
};

describe('request ids', () => {
  it('are UUIDs, distinct in every process, never the client\'s, and the correlation id of every line', async () => {
    const [first, second] = [await firstRequestLines(), await firstRequestLines()];
    const idOf = (lines: Record<string, unknown>[]) => lines.find((line) => line.msg === 'incoming request')?.requestId;
    expect(idOf(first)).toMatch(UUID);
    expect(idOf(second)).toMatch(UUID);
    expect(idOf(first)).not.toBe(idOf(second));
    for (const line of [...first, ...second].filter((l) => l.req !== undefined || l.res !== undefined)) {
      expect(line.correlationId).toBe(line.requestId);
    }
  });
});
