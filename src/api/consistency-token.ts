/**
 * Consistency tokens: the position a mutation's append reached, handed to the client as an opaque
 * string and accepted back by queries (read-your-writes). Format: `v1.` + base64url of the decimal
 * position. The version prefix lets the encoding change (an EventStoreDB commit/prepare pair, say)
 * without old clients' tokens being misread.
 */
import { ValidationError } from '../platform/errors.js';

const PREFIX = 'v1.';
const MAX_LENGTH = 64;

export const encodeConsistencyToken = (position: bigint): string =>
  `${PREFIX}${Buffer.from(position.toString(10), 'utf8').toString('base64url')}`;

/** The position a token stands for; a `ValidationError` naming `field` when it is not a token. */
export const decodeConsistencyToken = (token: string, field = 'consistencyToken'): bigint => {
  const bad = (): ValidationError => new ValidationError(field, 'is not a consistency token returned by a mutation');
  if (token.length > MAX_LENGTH || !token.startsWith(PREFIX)) throw bad();
  const body = token.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw bad();
  const decimal = Buffer.from(body, 'base64url').toString('utf8');
  if (!/^(0|[1-9]\d{0,19})$/.test(decimal)) throw bad();
  const position = BigInt(decimal);
  if (position > 2n ** 64n - 1n) throw bad();
  return position;
};
