/**
 * `--until '<path> <op> <value>'`: a condition on the folded state, e.g. `available < 0`,
 * `status == "cancelled"`, `reservations.o-17.quantity >= 2`. The value is JSON (a number, a
 * quoted string, true, false, null) or a bare word read as a string. `available` is derived for
 * inventory states (received - reserved - sold) so the rule people state can be asked directly.
 */
import { KeelError } from '../platform/errors.js';
import { valueAt, type Plain } from './plain.js';

export const OPERATORS = ['==', '!=', '<=', '>=', '<', '>'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  readonly text: string;
  readonly path: readonly string[];
  readonly op: Operator;
  readonly value: Plain;
}

const badCondition = (text: string, why: string): KeelError =>
  new KeelError('KEEL_ERR_REPLAY_BAD_CONDITION', `Cannot read the condition "${text}": ${why}. Write '<path> <op> <value>', e.g. 'available < 0' or 'status == "cancelled"'.`, { condition: text });

const SHAPE = /^\s*([A-Za-z_$][\w$-]*(?:\.[\w$:@-]+)*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$/;

export const parseCondition = (text: string): Condition => {
  const match = SHAPE.exec(text);
  if (!match) return failParse(text);
  const [, path = '', op = '==', raw = ''] = match;
  let value: Plain;
  try {
    value = JSON.parse(raw) as Plain;
  } catch {
    if (!/^[\w.:@-]+$/.test(raw)) throw badCondition(text, `the value ${raw} is neither JSON nor a bare word`);
    value = raw;
  }
  if (value !== null && typeof value === 'object') throw badCondition(text, 'the value must be a number, a string, true, false or null');
  if ((op === '<' || op === '>' || op === '<=' || op === '>=') && typeof value !== 'number') {
    throw badCondition(text, `${op} compares numbers, and ${raw} is not one`);
  }
  return { text, path: path.split('.'), op: op as Operator, value };
};

const failParse = (text: string): never => {
  throw badCondition(text, 'expected a path, an operator (== != < <= > >=) and a value');
};

/** Derived fields a condition may name besides the state's own. */
const derived = (state: Plain): Plain => {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) return state;
  const s = state as Record<string, Plain>;
  if (typeof s.received === 'number' && typeof s.reserved === 'number' && typeof s.sold === 'number' && s.available === undefined) {
    return { ...s, available: s.received - s.reserved - s.sold };
  }
  return state;
};

export const holds = (condition: Condition, state: Plain): boolean => {
  const actual = valueAt(derived(state), condition.path);
  if (actual === undefined) return false;
  const { op, value } = condition;
  if (op === '==') return actual === value;
  if (op === '!=') return actual !== value;
  if (typeof actual !== 'number' || typeof value !== 'number') return false;
  if (op === '<') return actual < value;
  if (op === '<=') return actual <= value;
  if (op === '>') return actual > value;
  return actual >= value;
};
