/**
 * Concurrent writers for the no-skipped-events tests: each runs hand-written transactions
 * (`BEGIN; keel_append; pg_sleep(random); COMMIT or ROLLBACK`) on its own connection, so that
 * transactions commit in a different order from the one in which they took their positions.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface WrittenEvent {
  readonly id: string;
  readonly streamId: string;
  readonly position: bigint;
}

export interface WriterReport {
  readonly committed: WrittenEvent[];
  readonly rolledBack: string[];
  /** Last positions of committed transactions, in the order their COMMITs returned. */
  readonly commitOrder: bigint[];
}

export interface WriterOptions {
  readonly url: string;
  readonly writers: number;
  readonly transactionsPerWriter: number;
  readonly streams: readonly string[];
  /** Fraction of transactions rolled back. */
  readonly rollbackRate: number;
  readonly maxSleepMs: number;
}

export const runWriters = async (options: WriterOptions): Promise<WriterReport> => {
  const report: WriterReport = { committed: [], rolledBack: [], commitOrder: [] };
  const writer = async (w: number): Promise<void> => {
    const client = new pg.Client({ connectionString: options.url });
    await client.connect();
    try {
      for (let t = 0; t < options.transactionsPerWriter; t++) {
        const streamId = options.streams[(w + t) % options.streams.length] ?? 'stream';
        const events = Array.from({ length: 1 + ((w + t) % 3) }, (_, i) => ({
          id: randomUUID(),
          type: 'Written',
          data: { w, t, i },
          metadata: {},
        }));
        await client.query('begin');
        const { rows } = await client.query<{ r_status: string; r_position: string }>(
          `select r_status, r_position::text as r_position from keel_append($1, 'any', $2::jsonb)`,
          [streamId, JSON.stringify(events)],
        );
        const last = BigInt(rows[0]?.r_position ?? '-1');
        if (rows[0]?.r_status !== 'ok') throw new Error(`append failed: ${JSON.stringify(rows[0])}`);
        await client.query('select pg_sleep($1)', [(Math.random() * options.maxSleepMs) / 1000]);
        if (Math.random() < options.rollbackRate) {
          await client.query('rollback');
          report.rolledBack.push(...events.map((e) => e.id));
          continue;
        }
        await client.query('commit');
        report.commitOrder.push(last);
        events.forEach((e, i) => report.committed.push({ id: e.id, streamId, position: last - BigInt(events.length - 1 - i) }));
        // Outside the transaction, as the adapter does: wakes LISTENing subscribers.
        await client.query('notify keel_events');
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, w) => writer(w)));
  return report;
};

/** How many commits returned after a commit holding a higher position (the case that skips events). */
export const outOfOrderCommits = (commitOrder: readonly bigint[]): number => {
  let count = 0;
  let highest = -1n;
  for (const position of commitOrder) {
    if (position < highest) count += 1;
    else highest = position;
  }
  return count;
};
