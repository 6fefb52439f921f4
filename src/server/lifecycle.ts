/**
 * What the server opened, closed in reverse order on shutdown (a failure is logged and the rest
 * still close), and SIGINT/SIGTERM handling around it.
 */
import type { Logger } from '../platform/logger.js';

export interface Closer {
  readonly name: string;
  close(): Promise<void>;
}

/** A long-running worker started with the server and stopped before the stores close. */
export interface BackgroundWorker {
  readonly name: string;
  stop(): Promise<void>;
}

export class Closers {
  readonly #closers: Closer[] = [];

  constructor(private readonly logger: Logger) {}

  add(name: string, close: () => Promise<void>): void {
    this.#closers.push({ name, close });
  }

  /** Closes everything added so far, newest first. */
  async closeAll(): Promise<void> {
    for (const closer of this.#closers.splice(0).reverse()) {
      await closer.close().catch((error: unknown) => this.logger.error({ err: error }, `closing ${closer.name} failed`));
    }
  }
}

/**
 * On SIGINT/SIGTERM: `close`, then exit 0 (1 when it fails or takes longer than `timeoutMs`); a
 * second signal exits at once. Returns the function that removes the handlers.
 */
export const exitOnSignals = (logger: Logger, close: () => Promise<void>, timeoutMs: number): (() => void) => {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    logger.info(`${signal} received: shutting down`);
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
};
