/**
 * Security headers (@fastify/helmet) on every response. The Content-Security-Policy is helmet's
 * strict default, except where GraphiQL is served (development): its page loads React, GraphiQL
 * and their CSS from unpkg.com, registers a same-origin service worker, and talks to /graphql
 * over fetch and WebSocket.
 */
import helmet from '@fastify/helmet';
import type { FastifyHelmetOptions } from '@fastify/helmet';

export const GRAPHIQL_CDN = 'https://unpkg.com';

export const helmetOptions = (graphiql: boolean): FastifyHelmetOptions => ({
  contentSecurityPolicy: graphiql
    ? {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", GRAPHIQL_CDN],
          styleSrc: ["'self'", "'unsafe-inline'", GRAPHIQL_CDN],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'", 'data:', GRAPHIQL_CDN],
          connectSrc: ["'self'", 'ws:', 'wss:', GRAPHIQL_CDN],
          workerSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
        },
      }
    : true,
});

export { helmet };
