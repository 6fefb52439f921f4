/**
 * The double's in-flight calls (a FAKE for tests), so a test can end them all with UNAVAILABLE
 * (a dropped connection) or freeze the subscriptions among them (a stalled connection that stays
 * open).
 */
import { status } from '@grpc/grpc-js';

export interface TrackedCall {
  /** Ends the call with this status. */
  abort(code: status, details: string): void;
}

/** A subscription's session: its abort signal and its stall switch. */
export class Session {
  private readonly controller = new AbortController();
  private stalled = false;
  private unstall: (() => void) | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  end(): void {
    this.controller.abort();
    this.setStalled(false);
  }

  setStalled(on: boolean): void {
    this.stalled = on;
    if (!on) {
      this.unstall?.();
      this.unstall = undefined;
    }
  }

  /** Resolves at once unless stalled; then when unstalled or ended. */
  whileStalled(): Promise<void> {
    if (!this.stalled || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.unstall = resolve;
    });
  }
}

export class CallRegistry {
  private readonly calls = new Set<TrackedCall>();
  private readonly sessions = new Set<Session>();

  track(call: TrackedCall): () => void {
    this.calls.add(call);
    return () => this.calls.delete(call);
  }

  /** A Read call's session; subscriptions are the ones `stallAll` and `subscriptionCount` see. */
  openSession(subscription: boolean): { session: Session; close: () => void } {
    const session = new Session();
    if (subscription) this.sessions.add(session);
    return {
      session,
      close: () => {
        session.end();
        this.sessions.delete(session);
      },
    };
  }

  get subscriptionCount(): number {
    return this.sessions.size;
  }

  /** Ends every call in flight with UNAVAILABLE, as a lost connection would. */
  dropAll(): number {
    const calls = [...this.calls];
    this.calls.clear();
    for (const call of calls) call.abort(status.UNAVAILABLE, 'Connection dropped (EsdbProtocolDouble.dropConnections)');
    return calls.length;
  }

  /** Stalls (or releases) every subscription open now; later ones are not affected. */
  stallAll(on: boolean): void {
    for (const session of this.sessions) session.setStalled(on);
  }
}
