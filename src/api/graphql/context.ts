/**
 * What every resolver sees of the request, beside mercurius' own context: the caller (`auth`) and
 * the edge's clock. Deps (write side, read side, settings) are closed over by the resolver
 * factories instead, so the context stays per-request data only.
 */
import type { Span } from '../../platform/tracing.js';
import type { Auth } from '../auth.js';

export interface RequestScope {
  readonly auth: Auth;
  /** ISO-8601 time of the request, read once at the edge (when a resolver first asks). */
  readonly now: string;
  readonly requestId: string;
  /** The request's span while tracing is on: the parent of the commands its mutations send. */
  readonly span?: Span | null;
}

declare module 'mercurius' {
  interface MercuriusContext {
    readonly keel: RequestScope;
  }
}
