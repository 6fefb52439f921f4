/**
 * Security headers, two sets:
 *
 * - Every API response (`/graphql`, `/health`, `/ready`, errors and 404s: JSON, never a page a
 *   browser renders) carries `API_SECURITY_HEADERS`, the set OWASP's REST Security Cheat Sheet
 *   gives for APIs: no caching of answers that may hold a customer's orders (`Cache-Control:
 *   no-store`), nothing may run or be framed (`Content-Security-Policy: default-src 'none';
 *   frame-ancestors 'none'`, `X-Frame-Options: DENY`), no MIME sniffing, HTTPS only (HSTS), and no
 *   cross-origin embedding (`Cross-Origin-Resource-Policy: same-origin`). helmet's other headers
 *   (DNS prefetch, IE8 downloads, Flash policies, origin-agent clusters, the XSS auditor, opener
 *   policy, referrer policy) govern what a rendered document does; a JSON body has none of that.
 * - The GraphiQL page and its assets (development only) carry helmet's, as @fastify/helmet sets
 *   them, with a Content-Security-Policy that lets the page (src/api/graphiql.ts) load only Keel's
 *   own scripts, stylesheets and fonts (inlined as data: URLs) and talk to /graphql over fetch and
 *   WebSocket. Nothing comes from another origin, and no inline script runs. The inspector's page
 *   (src/api/inspector/assets.ts) carries helmet's too, with its own stricter policy
 *   (`default-src 'self'`); its JSON data routes carry the API set.
 *
 * None depends on the request, so both are computed once. helmet's middleware (the very one
 * @fastify/helmet runs, with the same options) is run against a recorder when the app is built, and
 * every request replays what it did (the same headers, in the same order); the plugin itself builds
 * helmet's middleware anew on each request, CSP parsing and validation included. The headers go
 * through fastify's reply (one `writeHead` with all of them), not `setHeader` one by one.
 */
import { createRequire } from 'node:module';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyReply, onRequestHookHandler } from 'fastify';

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

/** The headers of every API response (see above), lower-case names as fastify stores them. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

const replay = (ops: readonly HeaderOp[]): onRequestHookHandler => {
  const set = ops.map(([name, value]) => [name.toLowerCase(), value] as const);
  return (_request, reply: FastifyReply, done) => {
    for (const [name, value] of set) {
      if (value === undefined) reply.removeHeader(name);
      else reply.header(name, value);
    }
    done();
  };
};

/** An onRequest hook setting `API_SECURITY_HEADERS`. */
export const apiSecurityHeaders = (): onRequestHookHandler => replay(Object.entries(API_SECURITY_HEADERS));

/** An onRequest hook setting helmet's headers for `options` (computed once). */
export const securityHeaders = (options: FastifyHelmetOptions): onRequestHookHandler => replay(securityHeaderOps(options));
