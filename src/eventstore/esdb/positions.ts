/**
 * Keel positions on EventStoreDB are `$all` commit positions, as bigints: byte offsets in the
 * transaction log, so not dense. An event written through the gRPC API is its own implicitly
 * committed record: the server reads it at commit position = its log position, and compares and
 * resumes `$all` reads at (log position, log position). A commit position alone is therefore enough
 * to resume from, whatever prepare position the client was shown.
 */
import { START } from '@eventstore/db-client';
import type { Position, ReadPosition } from '@eventstore/db-client';

/** The port's "nothing delivered yet". */
export const BEFORE_START = -1n;

/**
 * Where a forwards `$all` read or subscription starts for a port position `after`. No event Keel
 * can see sits at commit position 0 (the log starts with the server's own records), so `after` < 1
 * is the start. A read from a position includes it and a subscription excludes it: callers skip
 * anything at or below `after` in both cases.
 */
export const fromAfter = (after: bigint): ReadPosition => (after < 1n ? START : toEsdbPosition(after));

export const toEsdbPosition = (position: bigint): Position => ({ commit: position, prepare: position });

/** An event's `$all` commit position; stream reads carry it too (servers 20.6 and later). */
export const positionOf = (event: { readonly position?: Position | undefined }): bigint => event.position?.commit ?? BEFORE_START;
