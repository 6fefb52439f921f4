/**
 * Security headers (helmet's, as @fastify/helmet sets them) on every response. The Content-Security-Policy is helmet's
 * strict default, except where GraphiQL is served (development): its page (src/api/graphiql.ts)
 * loads only Keel's own scripts, stylesheets and fonts (inlined as data: URLs), and talks to
 * /graphql over fetch and WebSocket. Nothing comes from another origin, and no inline script runs.
 *
 * The headers do not depend on the request, so they are computed once: helmet's middleware (the
 * very one @fastify/helmet runs, with the same options) is run against a recorder when the app is
 * built, and every request replays what it did (the same headers, in the same order). The plugin
 * itself builds helmet's middleware anew on each request, CSP parsing and validation included.
 */
import { createRequire } from 'node:module';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { onRequestHookHandler } from 'fastify';

export const helmetOptions = (graphiql: boolean): FastifyHelmetOptions => ({
  contentSecurityPolicy: graphiql
    ? {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // 'unsafe-inline' for styles only: GraphiQL's dialogs insert a <style> element (scroll lock).
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'", 'data:'],
          // ws:/wss: for graphql-ws: not every browser lets 'self' match a WebSocket URL.
          connectSrc: ["'self'", 'ws:', 'wss:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          // A development server speaks plain HTTP: upgrading would send the page's own scripts
          // to https:// and break it wherever the host is not localhost (a LAN address, a VM).
          upgradeInsecureRequests: null,
        },
      }
    : true,
});

type HeaderOp = readonly [name: string, value: string | readonly string[] | number | undefined];
interface HeaderRecorder {
  setHeader(name: string, value: string | readonly string[] | number): void;
  removeHeader(name: string): void;
}
type HelmetMiddleware = (req: object, res: HeaderRecorder, next: (error?: unknown) => void) => void;
type Helmet = (options: Readonly<Record<string, unknown>>) => HelmetMiddleware;

// The helmet @fastify/helmet depends on (resolved from its own location, not hoisting).
const fromFastifyHelmet = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'));
const helmet = fromFastifyHelmet('helmet') as Helmet;

/** What helmet does to a response under `options` (@fastify/helmet's own options removed). */
export const securityHeaderOps = (options: FastifyHelmetOptions): readonly HeaderOp[] => {
  const { global: _global, enableCSPNonces: _nonces, ...configuration } = options;
  const ops: HeaderOp[] = [];
  let failure: unknown;
  helmet(configuration)(
    {},
    {
      setHeader: (name, value) => void ops.push([name, value]),
      removeHeader: (name) => void ops.push([name, undefined]),
    },
    (error) => {
      failure = error;
    },
  );
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return ops;
};

/** An onRequest hook setting the security headers of `options` (computed once). */
export const securityHeaders = (options: FastifyHelmetOptions): onRequestHookHandler => {
  const ops = securityHeaderOps(options);
  return (_request, reply, done) => {
    const raw = reply.raw;
    for (const [name, value] of ops) {
      if (value === undefined) raw.removeHeader(name);
      else raw.setHeader(name, value);
    }
    done();
  };
};
