import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/platform/config.js';
import { docSection, tableRows } from '../support/docs.js';

describe('configuration table (docs/reference/configuration.md)', () => {
  const rows = tableRows(docSection('docs/reference/configuration.md', 'Configuration'));

  for (const variable of describeConfig()) {
    it(`lists ${variable.name} with its default`, () => {
      const row = rows.find((r) => r.key === variable.name);
      expect(row, `no row for ${variable.name}`).toBeDefined();
      expect(row?.cells[1]).toBe(variable.default === undefined ? '(unset)' : `\`${variable.default}\``);
    });
  }

  it('lists no variable the configuration does not read', () => {
    const known = new Set<string>(describeConfig().map((v) => v.name));
    expect(rows.map((r) => r.key).filter((key) => !known.has(key))).toEqual([]);
  });
});
