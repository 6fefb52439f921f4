/**
 * Reactions for different orders run concurrently and finish out of order; the checkpoint may only
 * move to a position below which everything has finished. Positions arrive in increasing order.
 */
export class CheckpointTracker {
  private readonly pending: { position: bigint; done: boolean }[] = [];
  private safe: bigint;

  constructor(start: bigint) {
    this.safe = start;
  }

  /** An event whose reaction is starting. */
  begin(position: bigint): { done(): void } {
    const entry = { position, done: false };
    this.pending.push(entry);
    return {
      done: () => {
        entry.done = true;
        this.advance();
      },
    };
  }

  /** A position the subscription vouches for (nothing unseen at or below it). */
  mark(position: bigint): void {
    this.pending.push({ position, done: true });
    this.advance();
  }

  /** Everything at or below this position has been handled. */
  get position(): bigint {
    return this.safe;
  }

  get inFlight(): number {
    return this.pending.filter((entry) => !entry.done).length;
  }

  private advance(): void {
    while (this.pending[0]?.done) {
      const head = this.pending.shift();
      if (head && head.position > this.safe) this.safe = head.position;
    }
  }
}
