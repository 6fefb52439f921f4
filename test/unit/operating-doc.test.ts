/** docs/operations/operating.md lists every metric Keel exports, and names none it does not. */
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/platform/metrics.js';
import { doc } from '../support/docs.js';

const page = doc('docs/operations/operating.md');
const rows = [...page.matchAll(/^\| `(keel_[a-z_]+)` \|/gm)].map((m) => m[1]);

describe('docs/operations/operating.md, the metrics table', () => {
  it('has one row per metric of src/platform/metrics.ts, in its order', () => {
    expect(rows).toEqual([...METRIC_NAMES]);
  });
});
