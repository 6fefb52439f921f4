/**
 * Revoking a subject's bearer tokens: "refuse every token of S issued up to now". Stored as
 * `(subject, revoked_before)` in the primary database (`keel_token_revocations`, migration label
 * `tokens`), so every API process sees it; written by the admin mutation `revokeTokens` and by
 * `keel token revoke`.
 *
 * The request path never queries the table: each API process keeps the revocations in a Map and
 * refreshes it by polling (every second by default) for the rows changed since its last read, so the
 * per-request check is one Map lookup and another process's revocation takes effect within about a
 * poll interval. The process that revokes applies it to its own Map at once.
 *
 * Granularity: `iat` has whole seconds, so a token is revoked when `iat <= floor(revoked_before)`:
 * a token issued in the same second as the revocation (before or after it) is refused too.
 */
import { sql } from 'kysely';
import type { Migration } from 'kysely';
import type { DatabaseHandle, UntypedDatabase } from '../platform/database.js';
import { migrateToLatest } from '../platform/database.js';
import * as revocationTables from './migrations/2026-12-03-0001-token-revocations.js';

export const tokenRevocationMigrations: Readonly<Record<string, Migration>> = {
  '2026-12-03-0001-token-revocations': revocationTables,
};

/** Creates `keel_token_revocations`. Idempotent; API processes and `keel token revoke` call it. */
export const migrateTokenRevocations = (handle: DatabaseHandle, log?: (line: string) => void) =>
  migrateToLatest(handle.db, tokenRevocationMigrations, 'tokens', log);

export interface TokenRevocations {
  /**
   * The last second (since the epoch, inclusive) up to which `subject`'s tokens are revoked, or
   * undefined. Synchronous, a Map lookup: `authenticate` calls it on every request.
   */
  revokedBefore(subject: string): number | undefined;
  /** Revokes every token of `subject` issued up to now; resolves with the revocation's time. */
  revoke(subject: string): Promise<Date>;
  /** Stops polling (and waits for a poll in flight). */
  close(): Promise<void>;
}

/** Keeps the latest revocation per subject (revoking again never moves it back). */
const remember = (map: Map<string, number>, subject: string, seconds: number): void => {
  const known = map.get(subject);
  if (known === undefined || seconds > known) map.set(subject, seconds);
};

/** In this process only: for an app built without a database (tests), nothing persists or is shared. */
export const createMemoryTokenRevocations = (clock: () => Date = () => new Date()): TokenRevocations => {
  const revoked = new Map<string, number>();
  return {
    revokedBefore: (subject) => revoked.get(subject),
    revoke: async (subject) => {
      const at = clock();
      remember(revoked, subject, Math.floor(at.getTime() / 1000));
      return at;
    },
    close: async () => undefined,
  };
};

/**
 * Writes the revocation (the database's clock decides "now"; revoking again moves it forward) and
 * returns its time. Used by the API processes and by `keel token revoke`.
 */
export const revokeSubjectTokens = async (db: UntypedDatabase, subject: string): Promise<Date> => {
  const { rows } = await sql<{ at: number }>`
    insert into keel_token_revocations as r (subject, revoked_before, updated_at)
    values (${subject}, now(), clock_timestamp())
    on conflict (subject) do update
      set revoked_before = greatest(r.revoked_before, excluded.revoked_before), updated_at = excluded.updated_at
    returning extract(epoch from r.revoked_before)::float8 as at`.execute(db);
  const at = rows[0]?.at;
  if (at === undefined) throw new Error(`revoking the tokens of ${subject} returned no row`);
  return new Date(Math.round(at * 1000));
};

/** How far back each poll looks before the newest change it has seen: covers a write stamped before it committed. */
const OVERLAP_SECONDS = 10;

export interface PolledTokenRevocationsOptions {
  readonly db: UntypedDatabase;
  /** Default 1000 ms. */
  readonly pollMs?: number;
  /** A poll failed (the previous list stays in force) or, with `undefined`, succeeded again after failing. */
  readonly onPollError?: (error: unknown | undefined) => void;
}

interface ChangedRow {
  readonly subject: string;
  /** floor(epoch seconds) of revoked_before. */
  readonly before: number;
  /** Epoch seconds of updated_at. */
  readonly updated: number;
}

/**
 * Loads every revocation (the table must exist: `migrateTokenRevocations`), then polls for changes.
 * Rejects if the first load fails; later failures keep the last known list and are reported.
 */
export const openPolledTokenRevocations = async (options: PolledTokenRevocationsOptions): Promise<TokenRevocations> => {
  const { db } = options;
  const pollMs = options.pollMs ?? 1000;
  const revoked = new Map<string, number>();
  /** The newest `updated_at` seen, epoch seconds; undefined before the first load. */
  let newest: number | undefined;

  const load = async (): Promise<void> => {
    const since = newest === undefined ? sql`true` : sql`updated_at > to_timestamp(${newest - OVERLAP_SECONDS})`;
    const { rows } = await sql<ChangedRow>`
      select subject, floor(extract(epoch from revoked_before))::float8 as before, extract(epoch from updated_at)::float8 as updated
      from keel_token_revocations where ${since}`.execute(db);
    for (const row of rows) {
      remember(revoked, row.subject, row.before);
      if (newest === undefined || row.updated > newest) newest = row.updated;
    }
    newest ??= 0;
  };

  await load();
  let closed = false;
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      inFlight = load().then(
        () => {
          if (failing) options.onPollError?.(undefined);
          failing = false;
        },
        (error: unknown) => {
          if (!failing) options.onPollError?.(error);
          failing = true;
        },
      );
      void inFlight.then(schedule);
    }, pollMs);
    // A timer alone never keeps the process alive.
    timer.unref();
  };
  schedule();

  return {
    revokedBefore: (subject) => revoked.get(subject),
    revoke: async (subject) => {
      const at = await revokeSubjectTokens(db, subject);
      remember(revoked, subject, Math.floor(at.getTime() / 1000));
      return at;
    },
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
};
