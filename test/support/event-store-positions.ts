/**
 * Position checks specific to the PostgreSQL adapter (both drivers): positions are int8 in SQL
 * and must reach JS as exact bigints, beyond 2^53 too, where a JS number would round.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/eventstore/port.js';
import type { DatabaseHandle } from '../../src/platform/database.js';
import { collect, newEvent, uniqueStream } from './event-store-fixtures.js';

interface Opened {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  cleanup(): Promise<void>;
}

export const describeBigPositions = (name: string, open: () => Promise<Opened>): void => {
  describe(`positions as exact bigints: ${name}`, () => {
    let opened: Opened;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it('returns the very int8 that SQL stores', async () => {
      const event = newEvent();
      const result = await opened.store.append(uniqueStream('exact'), [event]);
      const { rows } = await sql<{ position: string }>`
        select position::text as position from keel_events where event_id = ${event.id}::uuid`.execute(opened.handle.db);
      expect(rows[0]?.position).toBe(result.position.toString());
    });

    it('reads positions and revisions above 2^53 without rounding', async () => {
      // No real cluster reaches transaction ids of 2^33 in a test, so the row is written by hand.
      const stream = uniqueStream('big');
      const position = 2n ** 60n + 7n;
      const revision = 2n ** 53n + 1n;
      const event = newEvent();
      await sql`
        insert into keel_events (position, stream_id, revision, event_id, type, data, metadata)
        values (${position.toString()}::bigint, ${stream}, ${revision.toString()}::bigint, ${event.id}::uuid,
                'Big', '{}'::jsonb, '{}'::jsonb)`.execute(opened.handle.db);
      const [read] = await collect(opened.store.readStream(stream));
      expect(read?.position).toBe(position);
      expect(read?.revision).toBe(revision);
      const [backwards] = await collect(opened.store.readStream(stream, { direction: 'backwards', fromRevision: revision }));
      expect(backwards?.id).toBe(event.id);
    });
  });
};
