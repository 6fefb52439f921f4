/**
 * Cross-process wake-ups. NOTIFY is sent after the append has committed, in its own statement,
 * never inside the append transaction: a transaction that has notified takes a cluster-wide lock
 * at commit, which would serialise every appender. Sends coalesce: at most one NOTIFY is in flight
 * per process, any number of appends during it cost one more, and NOTIFYs are at least
 * `minIntervalMs` apart (a NOTIFY per append round cost a fifth of the append throughput; the
 * cross-process wake-up is late by at most that interval).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export const CHANNEL = 'keel_events';

export class CoalescedNotifier {
  private sending: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: Kysely<unknown>,
    private readonly minIntervalMs = 5,
  ) {}

  poke(): void {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = this.loop();
  }

  /** Resolves when no NOTIFY is in flight. */
  async flush(): Promise<void> {
    await this.sending;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const started = performance.now();
      // Best effort: subscribers elsewhere also poll, so a failed NOTIFY only adds latency.
      // A NOTIFY commits a transaction of its own; it needs no durability, so it skips the WAL
      // flush that would otherwise take a slot from the appenders (one round trip, no parameters:
      // node-postgres sends it as a simple multi-statement query).
      await sql
        .raw(`begin; set local synchronous_commit = off; notify ${CHANNEL}; commit`)
        .execute(this.db)
        .catch(() => {});
      const wait = this.minIntervalMs - (performance.now() - started);
      if (this.again && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    } while (this.again);
    this.sending = undefined;
  }
}
