/**
 * The guards every read resolver goes through: the read side must be wired in, page sizes are
 * bounded, and a consistency token makes the read wait (bounded) for the projections it reads.
 */
import { KeelError, ValidationError } from '../../platform/errors.js';
import { decodeConsistencyToken } from '../consistency-token.js';
import type { ReadName, ReadSide } from '../read-side.js';

export const MAX_PAGE = 100;

export interface ReadAccess {
  /** The read side, or KEEL_ERR_READ_SIDE_UNAVAILABLE. */
  side(): ReadSide;
  /**
   * Waits until the projections behind `reads` reached `token` (no token: returns at once), and
   * returns the token's position (what cached reads must be at least as new as).
   */
  consistent(token: string | null | undefined, reads: readonly ReadName[], field?: string): Promise<bigint | undefined>;
}

export const pageSize = (first: unknown, field = 'first'): number => {
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw new ValidationError(field, `must be an integer between 1 and ${MAX_PAGE}`);
  }
  return first;
};

export const createReadAccess = (readSide: ReadSide | undefined, waitMs: number): ReadAccess => {
  const side = (): ReadSide => {
    if (readSide === undefined) {
      throw new KeelError('KEEL_ERR_READ_SIDE_UNAVAILABLE', 'Queries are not available yet: no read side is wired into this process.');
    }
    return readSide;
  };
  return {
    side,
    async consistent(token, reads, field = 'consistencyToken') {
      if (token === null || token === undefined) return undefined;
      const position = decodeConsistencyToken(token, field);
      // Rejects with KEEL_ERR_PROJECTION_LAG_TIMEOUT naming the projection that lags.
      await side().waitFor(position, reads, waitMs);
      return position;
    },
  };
};
