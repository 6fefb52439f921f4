/** `keel config`: the resolved configuration, secrets redacted, as aligned text or JSON. */
import { resolvedConfig } from '../platform/config.js';
import type { Config } from '../platform/config.js';

export const formatConfig = (config: Config, env: NodeJS.ProcessEnv, json: boolean): string => {
  const rows = resolvedConfig(config, env);
  if (json) {
    return JSON.stringify(Object.fromEntries(rows.map((row) => [row.name, row.value ?? null])), null, 2);
  }
  const nameWidth = Math.max(...rows.map((row) => row.name.length));
  const valueWidth = Math.max(...rows.map((row) => (row.value ?? '(unset)').length));
  return rows
    .map((row) => `${row.name.padEnd(nameWidth)}  ${(row.value ?? '(unset)').padEnd(valueWidth)}  ${row.source}`)
    .join('\n');
};
