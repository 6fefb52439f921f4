/**
 * States and events as plain JSON values, the form people read and diff: a Map becomes an object
 * (keys sorted), a bigint a string, a Date its ISO text. Anything else passes through.
 */
export type Plain = null | boolean | number | string | readonly Plain[] | { readonly [key: string]: Plain };

export const toPlain = (value: unknown): Plain => {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => [String(k), toPlain(v)] as const);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  }
  if (value instanceof Set) return [...value].map(toPlain);
  const out: Record<string, Plain> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toPlain(v);
  return out;
};

/** The value at a dotted path (`reservations.o-1.quantity`; array items by index), or undefined. */
export const valueAt = (value: Plain, path: readonly string[]): Plain | undefined => {
  let current: Plain | undefined = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? (current as readonly Plain[])[Number(key)] : (current as Record<string, Plain>)[key];
  }
  return current;
};

/** `value[key]` when `value` is an object and that field a non-empty string (event data, metadata). */
export const textField = (value: unknown, key: string): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const field: unknown = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field.length > 0 ? field : undefined;
};
