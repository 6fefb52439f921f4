/** Parsing what people type for a revision, a position or a time (`--since 2026-12-03T10:00Z`, `--since 4711`). */
import { KeelError } from '../platform/errors.js';

export type Bound = { readonly position: bigint } | { readonly time: Date };

const WHOLE = /^\d+$/;

export const parseRevision = (text: string, flag = '--to-revision'): bigint => {
  if (!WHOLE.test(text.trim())) throw new KeelError('KEEL_ERR_REPLAY_BAD_REVISION', `${flag} takes a revision, a whole number from 0: "${text}" is not one.`, { value: text });
  return BigInt(text.trim());
};

export const parsePosition = (text: string, flag = '--at-position'): bigint => {
  if (!WHOLE.test(text.trim())) throw new KeelError('KEEL_ERR_REPLAY_BAD_POSITION', `${flag} takes a position of the log, a whole number: "${text}" is not one.`, { value: text });
  return BigInt(text.trim());
};

/** An ISO-8601 date-time with a time zone (a bare date means its midnight UTC). */
export const parseTime = (text: string, flag = '--at'): Date => {
  const trimmed = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;
  const time = iso.test(trimmed) ? new Date(trimmed) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) {
    throw new KeelError('KEEL_ERR_REPLAY_BAD_TIME', `${flag} takes an ISO-8601 time with a zone, e.g. 2026-12-03T10:15:00Z: "${text}" is not one.`, { value: text });
  }
  return time;
};

/** A position (digits) or a time. */
export const parseBound = (text: string, flag: string): Bound =>
  WHOLE.test(text.trim()) ? { position: parsePosition(text, flag) } : { time: parseTime(text, flag) };

export const isBefore = (bound: Bound, event: { readonly position: bigint; readonly createdAt: Date }): boolean =>
  'position' in bound ? event.position < bound.position : event.createdAt.getTime() < bound.time.getTime();

export const isAfter = (bound: Bound, event: { readonly position: bigint; readonly createdAt: Date }): boolean =>
  'position' in bound ? event.position > bound.position : event.createdAt.getTime() > bound.time.getTime();
