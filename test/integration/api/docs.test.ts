/** The API documentation (docs/reference/) stays true: its SDL is the served schema, its rows match the registries. */
import { describe, expect, it } from 'vitest';
import { typeDefs } from '../../../src/api/graphql/schema.js';
import { configTableMarkdown } from '../../../src/platform/config.js';
import { ERROR_CODES } from '../../../src/platform/errors.js';
import { doc, docSection } from '../../support/docs.js';

const api = doc('docs/reference/graphql-api.md');
const configuration = docSection('docs/reference/configuration.md', 'Configuration');
const errorCodes = docSection('docs/reference/errors.md', 'Error codes');

describe('docs/reference/graphql-api.md, the GraphQL API', () => {
  it('shows the schema the server serves', () => {
    const blocks = [...api.matchAll(/```graphql\n([\s\S]*?)\n```/g)].map((m) => m[1]);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toBe(typeDefs.trim());
  });

  it('has a configuration row, as generated, for every API setting', () => {
    const rows = configTableMarkdown().split('\n');
    for (const name of ['JWT_SECRET', 'REDIS_KEY_PREFIX', 'RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW_MS', 'QUERY_MAX_DEPTH', 'QUERY_MAX_COST', 'BODY_LIMIT_BYTES', 'CONSISTENCY_WAIT_MS', 'OVERLOAD_MAX_IN_FLIGHT', 'OVERLOAD_MAX_EVENT_LOOP_DELAY_MS', 'OVERLOAD_MAX_EVENT_LOOP_UTILIZATION', 'OVERLOAD_MAX_HEAP_USED_BYTES', 'OVERLOAD_SAMPLE_INTERVAL_MS', 'OVERLOAD_RETRY_AFTER_SECONDS']) {
      const row = rows.find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(configuration).toContain(row);
    }
  });

  it('has an error row, as in the registry, for every API error code', () => {
    const codes = ['UNAUTHENTICATED', 'FORBIDDEN', 'KEEL_ERR_GRAPHQL_VALIDATION', 'KEEL_ERR_QUERY_TOO_DEEP', 'KEEL_ERR_QUERY_TOO_COSTLY', 'KEEL_ERR_BODY_TOO_LARGE', 'KEEL_ERR_RATE_LIMITED', 'KEEL_ERR_OVERLOADED', 'KEEL_ERR_READ_SIDE_UNAVAILABLE', 'KEEL_ERR_INTERNAL'] as const;
    for (const code of codes) expect(errorCodes).toContain(`| \`${code}\` | ${ERROR_CODES[code]} |`);
  });
});
