import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layers of src/ and what each may import besides itself. */
const layers = {
  platform: [],
  events: [],
  eventstore: ['events', 'platform'],
  commands: ['events', 'eventstore', 'platform'],
  projections: ['events', 'eventstore', 'platform'],
  replay: ['events', 'commands', 'eventstore', 'platform'],
  api: ['commands', 'projections', 'replay', 'events', 'eventstore', 'platform'],
  server: ['api', 'commands', 'projections', 'events', 'eventstore', 'platform'],
  cli: ['server', 'api', 'commands', 'projections', 'replay', 'events', 'eventstore', 'platform'],
};
/** Layers whose sub-folders are modules entered through their index.js. */
const modular = ['commands', 'projections', 'eventstore'];

const boundaries = Object.entries(layers).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`, ...(layer === 'cli' ? ['src/main.ts'] : [])],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...Object.keys(layers)
            .filter((other) => other !== layer && !allowed.includes(other))
            .map((other) => ({
              group: [`**/${other}/**`, `**/${other}/*`],
              message: `src/${layer} may not import src/${other} (docs/architecture.md, Layout).`,
            })),
          ...modular
            .filter((other) => other !== layer && allowed.includes(other))
            .map((other) => ({
              group: [`**/${other}/*/**`, `!**/${other}/*/index.js`],
              message: `import src/${other}/<module> through its index.js.`,
            })),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', '.keel/', '.bench-base/', 'bench/results/', 'coverage/', 'dist/', 'dist.next-*/', 'dist.old-*/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The arrows of docs/architecture.md ("Layout"), enforced: api → commands → events,
  // api → projections → events, both sides → eventstore, everything → platform; projections never
  // import commands. From outside a module folder (projections/engine, commands/order, …) only its
  // index.js is imported.
  ...boundaries,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly' } },
  },
);
