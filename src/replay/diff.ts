/**
 * A structural diff of two states: the paths added, removed and changed, computed by microdiff on
 * the plain forms. Paths are dotted (`reservations.o-17.quantity`).
 */
import microdiff from 'microdiff';
import type { Plain } from './plain.js';

export interface Change {
  readonly kind: 'added' | 'removed' | 'changed';
  readonly path: string;
  readonly before?: Plain;
  readonly after?: Plain;
}

const KIND = { CREATE: 'added', REMOVE: 'removed', CHANGE: 'changed' } as const;

export const diffStates = (before: Plain, after: Plain): Change[] => {
  if (before === null || typeof before !== 'object' || after === null || typeof after !== 'object') {
    return before === after ? [] : [{ kind: 'changed', path: '', before, after }];
  }
  return microdiff(before as Record<string, unknown>, after as Record<string, unknown>).map((d) => {
    const path = d.path.map(String).join('.');
    if (d.type === 'CREATE') return { kind: KIND.CREATE, path, after: d.value as Plain };
    if (d.type === 'REMOVE') return { kind: KIND.REMOVE, path, before: d.oldValue as Plain };
    return { kind: KIND.CHANGE, path, before: d.oldValue as Plain, after: d.value as Plain };
  });
};
