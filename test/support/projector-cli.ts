/**
 * Test-only entry of the `keel` program with the TEST projection registered instead of the read
 * models (the production entry, src/cli/main.ts, has no way to load it). `KEEL_TEST_CURE_POISON=1`
 * makes poisoned events succeed, to test `retry`.
 */
import { buildProgram } from '../../src/cli/program.js';
import { testProjection } from './projection-test-model.js';

const projection = testProjection({ isCured: () => process.env.KEEL_TEST_CURE_POISON === '1' });
await buildProgram(process.env, { projections: [projection] }).parseAsync(process.argv);
