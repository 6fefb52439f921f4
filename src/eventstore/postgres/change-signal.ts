/**
 * Waking subscribers. Appends made by this process wake its subscribers directly; appends made by
 * other processes arrive as a NOTIFY (see notifier.ts), which fires the same signal. Subscribers
 * also poll on a slow timer, so a lost wake-up only delays delivery.
 */

export class ChangeSignal {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fire(): void {
    for (const listener of this.listeners) listener();
  }
}

/** One subscriber's wait: remembers a change that arrived while it was busy reading. */
export class Waiter {
  private changed = false;
  private release: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  private readonly onAbort = (): void => this.release?.();

  constructor(
    changes: ChangeSignal,
    private readonly signal: AbortSignal,
  ) {
    this.unsubscribe = changes.subscribe(() => {
      this.changed = true;
      this.release?.();
    });
    signal.addEventListener('abort', this.onAbort);
  }

  /** Forget earlier changes. Call just before reading, so a change during the read is kept. */
  reset(): void {
    this.changed = false;
  }

  /** Until a change (unless `ignoreChanges`), `ms` elapse, or the signal aborts. */
  wait(ms: number, ignoreChanges = false): Promise<void> {
    if (this.signal.aborted || (this.changed && !ignoreChanges)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.release = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.release = () => {
        if (this.signal.aborted || !ignoreChanges) done();
      };
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.signal.removeEventListener('abort', this.onAbort);
    this.release?.();
  }
}
