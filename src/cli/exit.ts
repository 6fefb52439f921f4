import { isKeelError } from '../platform/errors.js';

/**
 * For entry points: report a startup failure and exit 1. A Keel error (bad configuration, store
 * unreachable) is one line on stderr without a stack; anything else keeps its stack.
 */
export const exitOnStartupError = (error: unknown): never => {
  const text = isKeelError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${text}\n`);
  process.exit(1);
};
