/**
 * Value schemas shared by events and commands. Money is always an integer number of minor units
 * (cents) beside an ISO-4217 currency code; times are ISO-8601 strings.
 */
import { z } from 'zod';

/**
 * Product, order, customer and payment ids: UUIDs or readable slugs, 1 to 64 characters. One
 * anchored pattern bounds the length too: every stored event is validated on every read, and three
 * checks (min, max, regex) cost a replay's fold about 5% more than one.
 */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, '1 to 64 letters, digits, "-" and "_", starting with a letter or digit');

export const skuSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, '1 to 64 letters, digits, ".", "-" and "_", starting with a letter or digit');

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'a three-letter ISO-4217 code, upper case');

/** Upper bound of one price or amount in minor units (ten million in major units). */
export const MAX_MONEY = 1_000_000_000;
/** Upper bound of one quantity (one delivery, one reservation, one order line). */
export const MAX_QUANTITY = 1_000_000;

/** A price or amount in integer minor units; zero is allowed (a free product). */
export const moneySchema = z.number().int().nonnegative().max(MAX_MONEY);
/** A strictly positive amount in integer minor units (payments, refunds). */
export const amountSchema = z.number().int().positive().max(MAX_MONEY);
export const quantitySchema = z.number().int().positive().max(MAX_QUANTITY);
/** A running total in integer minor units (order totals, counts of units). */
export const totalSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const timestampSchema = z.iso.datetime({ offset: true });

/** A UTF-16 surrogate that is not half of a pair (what `String.prototype.isWellFormed` refuses). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text PostgreSQL cannot store or compare: a NUL character (text and jsonb refuse it) or invalid
 * Unicode (a lone surrogate has no UTF-8 encoding). The API edge refuses it in every input too.
 */
export const isUnstorableText = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL characters or invalid Unicode';

/** Free text a person typed: refused if PostgreSQL could not store it (see isUnstorableText). */
const textSchema = () => z.string().refine((value) => !isUnstorableText(value), UNSTORABLE_TEXT_MESSAGE);

export const nameSchema = textSchema().trim().min(1).max(200);
export const reasonSchema = textSchema().trim().min(1).max(500);
export const authorizationCodeSchema = textSchema().min(1).max(100);
