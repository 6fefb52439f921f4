/**
 * Logs a cache outage once: the first failure logs a warning, later failures are silent until the
 * cache works again (which logs once more). So a Redis that is down for an hour costs two lines.
 */
import type { CacheLogger } from './read-cache.js';

export class OutageLog {
  private down = false;

  constructor(
    private readonly logger: CacheLogger,
    private readonly what: string,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn({ reason }, `${this.what} unavailable: reads fall back to PostgreSQL until it returns`);
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({}, `${this.what} available again`);
  }
}
