/**
 * String inputs that PostgreSQL cannot store or compare: a NUL character (text and jsonb refuse
 * it) or invalid Unicode (a lone UTF-16 surrogate, which has no UTF-8 encoding). Refused at the API
 * edge as a validation error naming the input, before any resolver sees them: otherwise each such
 * request fails in the database, unexpectedly (KEEL_ERR_INTERNAL, an error log with a stack).
 *
 * Two places: the string literals of a document (a validation rule, so its verdict is cached with
 * the document) and the variables of a request (`unsafeVariable`, over HTTP and WebSocket).
 */
import type { ASTNode, GraphQLError, ValidationRule } from 'graphql';
import { isUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../../events/index.js';
import { graphql } from './graphql-runtime.js';

export const UNSAFE_STRING_MESSAGE = UNSTORABLE_TEXT_MESSAGE;

export const isUnsafeString = isUnstorableText;

/** `input`, `lines`, 1, `sku` → `input.lines[1].sku` (how GraphQL names a place in a variable). */
const pathText = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? key : `${text}.${key}`), '');

/** KEEL_ERR_VALIDATION naming the input, as the error formatter passes it on (HTTP 400). */
const unsafeStringError = (path: ReadonlyArray<string | number>, nodes?: ASTNode): GraphQLError => {
  const field = pathText(path);
  return new graphql.GraphQLError(`${field}: ${UNSAFE_STRING_MESSAGE}.`, {
    ...(nodes === undefined ? {} : { nodes }),
    extensions: { code: 'KEEL_ERR_VALIDATION', field },
  });
};

/** One object or array being walked: its keys (undefined: an array's indexes) and where the walk is. */
interface Frame {
  readonly value: object;
  readonly keys: readonly string[] | undefined;
  readonly size: number;
  /** Its key in its parent (unused for the root). */
  readonly key: string | number;
  next: number;
}

const frameOf = (value: object, key: string | number): Frame => {
  if (Array.isArray(value)) return { value, keys: undefined, size: value.length, key, next: 0 };
  const keys = Object.keys(value);
  return { value, keys, size: keys.length, key, next: 0 };
};

/**
 * The path of the first unsafe string in a JSON value (variables), undefined if none. Iterative,
 * with a frame per object or array and nothing per string, so any nesting a body can carry is
 * walked without growing the call stack.
 */
export const unsafeStringPath = (root: object): Array<string | number> | undefined => {
  const stack: Frame[] = [frameOf(root, '')];
  for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
    if (top.next >= top.size) {
      stack.pop();
      continue;
    }
    const index = top.next++;
    const key = top.keys === undefined ? index : (top.keys[index] ?? '');
    const value: unknown = Reflect.get(top.value, key);
    if (typeof value === 'string') {
      if (isUnsafeString(value)) return [...stack.slice(1).map((frame) => frame.key), key];
    } else if (typeof value === 'object' && value !== null) {
      stack.push(frameOf(value, key));
    }
  }
  return undefined;
};

/** The error to refuse a request's variables with (the first unsafe string), or undefined. */
export const unsafeVariable = (variables: object): GraphQLError | undefined => {
  const path = unsafeStringPath(variables);
  return path === undefined ? undefined : unsafeStringError(path);
};

/**
 * The name of an input a literal sits in, from its ancestors: arguments and input fields by name,
 * list items by index, a variable's default value by the variable's name.
 */
const literalPath = (path: ReadonlyArray<string | number>, lineage: ReadonlyArray<ASTNode | readonly ASTNode[]>): Array<string | number> => {
  const names: Array<string | number> = [];
  lineage.forEach((ancestor, i) => {
    if (!('kind' in ancestor)) return;
    if (ancestor.kind === graphql.Kind.ARGUMENT || ancestor.kind === graphql.Kind.OBJECT_FIELD) names.push(ancestor.name.value);
    else if (ancestor.kind === graphql.Kind.VARIABLE_DEFINITION) names.push(ancestor.variable.name.value);
    else if (ancestor.kind === graphql.Kind.LIST) {
      // path[i] is "values" (the list's array), path[i + 1] the item's index in it.
      const index = path[i + 1];
      if (typeof index === 'number') names.push(index);
    }
  });
  return names;
};

/** Every string literal of a document (arguments, input fields, defaults, directives). */
export const safeStringLiteralsRule: ValidationRule = (context) => ({
  StringValue: (node, _key, parent, path, ancestors) => {
    if (!isUnsafeString(node.value)) return;
    // `ancestors` stops short of `parent`; with it, ancestor i holds path[i].
    const lineage = parent === undefined ? ancestors : [...ancestors, parent];
    context.reportError(unsafeStringError(literalPath(path, lineage), node));
  },
});
