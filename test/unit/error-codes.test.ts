import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/platform/errors.js';
import { docSection, tableRows } from '../support/docs.js';

describe('error codes table (docs/reference/errors.md)', () => {
  const rows = tableRows(docSection('docs/reference/errors.md', 'Error codes'));

  it('documents every code of the registry', () => {
    const documented = new Set(rows.map((r) => r.key));
    expect(Object.keys(ERROR_CODES).filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code the registry lacks', () => {
    expect(rows.map((r) => r.key).filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });

  it('gives each code a meaning', () => {
    for (const row of rows) expect(row.cells[1], row.key).not.toBe('');
  });
});
