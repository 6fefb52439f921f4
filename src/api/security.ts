/**
 * Security headers (@fastify/helmet) on every response. The Content-Security-Policy is helmet's
 * strict default, except where GraphiQL is served (development): its page (src/api/graphiql.ts)
 * loads only Keel's own scripts, stylesheets and fonts (inlined as data: URLs), and talks to
 * /graphql over fetch and WebSocket. Nothing comes from another origin, and no inline script runs.
 */
import helmet from '@fastify/helmet';
import type { FastifyHelmetOptions } from '@fastify/helmet';

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

export { helmet };
