/**
 * The lint enforces docs/architecture.md's arrows (eslint.config.js, `no-restricted-imports` per
 * layer): a forbidden import fails `npm test`. Checked here with ESLint's own API on sample files.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

const problems = async (filePath: string, source: string): Promise<string[]> => {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('module boundaries (lint)', () => {
  it.each([
    ['src/projections/read-models/x.ts', "import { orderDecider } from '../../commands/order/index.js';", /src\/projections may not import src\/commands/],
    ['src/commands/order/x.ts', "import { readModels } from '../../projections/read-models/index.js';", /src\/commands may not import src\/projections/],
    ['src/events/x.ts', "import { KeelError } from '../platform/errors.js';", /src\/events may not import src\/platform/],
    ['src/eventstore/postgres/x.ts', "import { orderDecider } from '../../commands/order/index.js';", /src\/eventstore may not import src\/commands/],
    ['src/platform/x.ts', "import { buildApp } from '../api/app.js';", /src\/platform may not import src\/api/],
    ['src/api/x.ts', "import { startKeel } from '../server/index.js';", /src\/api may not import src\/server/],
    ['src/server/x.ts', "import { program } from '../cli/program.js';", /src\/server may not import src\/cli/],
    ['src/api/x.ts', "import { getOrder } from '../projections/read-models/orders/queries.js';", /through its index\.js/],
    ['src/cli/x.ts', "import { createCommandHandler } from '../commands/handler/command-handler.js';", /through its index\.js/],
  ])('refuses in %s: %s', async (file, line, message) => {
    const found = await problems(file, `${line}\nexport const used = [${/import \{ (\w+) \}/.exec(line)?.[1] ?? ''}];\n`);
    expect(found).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['src/api/x.ts', "import { getOrder } from '../projections/read-models/index.js';"],
    ['src/api/x.ts', "import { orderDecider } from '../commands/order/index.js';"],
    ['src/projections/engine/x.ts', "import { lagOf } from './status.js';"],
    ['src/cli/x.ts', "import { startFulfilment } from '../commands/fulfilment/index.js';"],
  ])('allows in %s: %s', async (file, line) => {
    expect(await problems(file, `${line}\nexport const used = [${/import \{ (\w+) \}/.exec(line)?.[1] ?? ''}];\n`)).toEqual([]);
  });
});
