/**
 * The inspector's page and its static files: `GET /inspector` (assets/index.html), its script and
 * stylesheet, and the one vendor file it uses, d3-hierarchy's UMD build (the causal graph's tree
 * layout), read from the installed package and served at `/inspector/vendor/d3-hierarchy.min.js`.
 * Nothing comes from another origin and nothing is inline, so the page runs under a strict
 * Content-Security-Policy (`default-src 'self'`, no inline script or style, no framing), set by
 * this plugin's own hook over the API's headers (app.ts). The files hold no data: every piece of
 * data comes from `/inspector/api/…`, which requires an admin's bearer token (routes.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';
import { securityHeaders } from '../security.js';

export const INSPECTOR_PATH = '/inspector';

/** The page's policy: its own scripts, styles and API only (helmet's defaults off, every directive stated). */
export const inspectorHelmetOptions: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'"],
      // data: for the empty favicon (`<link rel="icon" href="data:,">`), which spares a request.
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
};

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));

/** d3-hierarchy's UMD build, next to the module Node resolves for the package (its exports map hides `dist/`). */
const d3HierarchyFile = (): string => join(dirname(createRequire(import.meta.url).resolve('d3-hierarchy')), 'd3-hierarchy.min.js');

interface Asset {
  readonly url: string;
  readonly file: string;
  readonly contentType: string;
}

const FILES: readonly Asset[] = [
  { url: INSPECTOR_PATH, file: join(ASSETS, 'index.html'), contentType: 'text/html; charset=utf-8' },
  { url: `${INSPECTOR_PATH}/`, file: join(ASSETS, 'index.html'), contentType: 'text/html; charset=utf-8' },
  { url: `${INSPECTOR_PATH}/inspector.js`, file: join(ASSETS, 'inspector.js'), contentType: 'text/javascript; charset=utf-8' },
  { url: `${INSPECTOR_PATH}/inspector.css`, file: join(ASSETS, 'inspector.css'), contentType: 'text/css; charset=utf-8' },
  { url: `${INSPECTOR_PATH}/vendor/d3-hierarchy.min.js`, file: d3HierarchyFile(), contentType: 'text/javascript; charset=utf-8' },
];

export const inspectorAssetsPlugin: FastifyPluginAsync = async (app) => {
  // A page a browser renders: helmet's headers with the policy above, over the API's set (app.ts).
  app.addHook('onRequest', securityHeaders(inspectorHelmetOptions));
  for (const asset of FILES) {
    // Read once, when the app is built (about 70 kB in all).
    const content = await readFile(asset.file);
    app.get(asset.url, async (_request, reply) => reply.type(asset.contentType).header('cache-control', 'no-cache').send(content));
  }
};
