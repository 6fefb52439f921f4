/**
 * GraphiQL at `GET /graphiql` (registered only in development, see src/api/app.ts), self-hosted:
 * the page, its bootstrap script and the four vendor files (React, ReactDOM, GraphiQL's script and
 * stylesheet, read from the installed `react`, `react-dom` and `graphiql` packages) are all served
 * by Keel, so the page works with no internet access and under a CSP of `'self'` scripts and
 * styles (helmet's headers, src/api/security.ts, set by this plugin's own hook). Nothing is
 * inline: the page's only code is `/graphiql/main.js`.
 *
 * Vendor files live under a versioned path (`/graphiql/assets/<package>@<version>/<file>`) and are
 * cached for a year (immutable); the page, `main.js` and `main.css` are revalidated on each load.
 * The fetcher posts to the GraphQL endpoint and opens subscriptions (graphql-ws) on the same path.
 *
 * The editor opens on GRAPHIQL_DEFAULT_QUERY (GraphiQL's `defaultQuery` prop: used only while the
 * browser has no tabs of its own in localStorage), a catalog query that runs as is, with comments
 * on adding a bearer token in the Headers pane and on passing a mutation's consistencyToken to a
 * query. No `defaultHeaders`: a placeholder token there would make every operation fail.
 *
 * The schema reaches GraphiQL as `/graphiql/schema.json` (the introspection of the served type
 * definitions), so the page has docs, autocompletion and validation at once. GraphiQL's own
 * introspection through `/graphql` (its "re-fetch schema" button) works too: outside production an
 * introspection-only operation is exempt from QUERY_MAX_DEPTH (graphql/validation-rules.ts); the
 * query nests 13 deep.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { typeDefs } from './graphql/schema.js';
import { helmetOptions, securityHeaders } from './security.js';

export const GRAPHIQL_PATH = '/graphiql';

export interface GraphiqlPluginOptions {
  /** The GraphQL endpoint's path (HTTP and graphql-ws), e.g. `/graphql`. */
  readonly endpoint: string;
}

const require = createRequire(import.meta.url);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

interface Asset {
  /** The URL path it is served at. */
  readonly url: string;
  /** Its absolute path on disk. */
  readonly file: string;
  readonly contentType: string;
}

/** A package's directory and version, found the way Node resolves it from this module. */
const installed = (name: string): { readonly dir: string; readonly version: string } => {
  const manifest = require.resolve(`${name}/package.json`);
  const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
  const version: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'version') : undefined;
  if (typeof version !== 'string') throw new Error(`${manifest} has no version`);
  return { dir: dirname(manifest), version };
};

const vendor = (name: string, files: ReadonlyArray<readonly [file: string, contentType: string]>): Asset[] => {
  const { dir, version } = installed(name);
  return files.map(([file, contentType]) => ({
    url: `${GRAPHIQL_PATH}/assets/${name}@${version}/${file.split('/').at(-1) ?? file}`,
    file: join(dir, file),
    contentType,
  }));
};

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * What the query editor shows on a first visit instead of GraphiQL's generic welcome: a query
 * anyone can run (the catalog needs no token), and, in comments, how to authenticate and how to
 * read one's own write. The commented operations are valid against the schema (checked by
 * test/integration/api/graphiql.test.ts). ASCII only, no URL: it is embedded in `main.js`.
 */
export const GRAPHIQL_DEFAULT_QUERY = `# Keel's GraphQL API. Run the query below with Ctrl-Enter (or the run button):
# the first five products of the catalog. Reading the catalog needs no token.
#
# Mutations, orders and admin fields need a bearer token. Create one in a terminal:
#
#   npm run --silent keel -- token --sub alice --role customer
#
# (--sub ada --role admin for listProduct, receiveStock and the other admin mutations),
# then open the Headers pane (below the editor) and put it there:
#
#   {"authorization": "Bearer <token>"}
#
# Subscriptions read the token from graphql-ws connection_init, which this pane does not fill.
#
# Reads are eventually consistent. To read your own write, take the consistencyToken a
# mutation returns and pass it to the query: the query waits until the read models have
# applied that write. For example, as alice:
#
#   mutation { placeOrder(input: { lines: [{ sku: "TEA", quantity: 1 }] }) { orderId consistencyToken } }
#   query { order(id: "<orderId>", consistencyToken: "<consistencyToken>") { status total } }

query Products {
  products(first: 5) {
    edges {
      node {
        id
        name
        price
        currency
        available
      }
    }
  }
}
`;

const MAIN_CSS = `html, body { height: 100%; margin: 0; }
#graphiql { height: 100vh; }
`;

// Plain ES2017 for the browser: no inline script (the CSP forbids it), globals from the UMD files.
const MAIN_JS = `/* global React, ReactDOM, GraphiQL */
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var url = new URL(root.getAttribute('data-endpoint'), window.location.href);
  var subscriptionUrl = new URL(url.href);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  // The first tab's text when the browser has none stored (GRAPHIQL_DEFAULT_QUERY, graphiql.ts).
  var defaultQuery = ${JSON.stringify(GRAPHIQL_DEFAULT_QUERY)};
  var render = function (schema) {
    var props = { fetcher: fetcher, defaultQuery: defaultQuery, isHeadersEditorEnabled: true, shouldPersistHeaders: true };
    // Without it (schema.json failed), GraphiQL introspects through the fetcher itself.
    if (schema) props.schema = schema;
    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
  };
  fetch(root.getAttribute('data-schema'))
    .then(function (response) {
      if (!response.ok) throw new Error('GraphiQL schema: HTTP ' + response.status);
      return response.json();
    })
    .then(render, function (error) {
      console.warn(error);
      render(undefined);
    });
})();
`;

export const graphiqlPlugin: FastifyPluginAsync<GraphiqlPluginOptions> = async (app, options) => {
  // A page a browser renders: helmet's headers, with the CSP above (over the API's set, app.ts).
  app.addHook('onRequest', securityHeaders(helmetOptions(true)));
  const [react] = vendor('react', [['umd/react.production.min.js', JS]]);
  const [reactDom] = vendor('react-dom', [['umd/react-dom.production.min.js', JS]]);
  const [script, stylesheet, scriptMap, stylesheetMap] = vendor('graphiql', [
    ['graphiql.min.js', JS],
    ['graphiql.min.css', CSS],
    // Referenced by the two files' sourceMappingURL comments (fetched by developer tools only).
    ['graphiql.min.js.map', 'application/json; charset=utf-8'],
    ['graphiql.min.css.map', 'application/json; charset=utf-8'],
  ]);
  if (react === undefined || reactDom === undefined || script === undefined || stylesheet === undefined) throw new Error('GraphiQL assets missing');

  const page = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>GraphiQL · Keel</title>
  <meta name="robots" content="noindex">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="${stylesheet.url}">
  <link rel="stylesheet" href="${GRAPHIQL_PATH}/main.css">
</head>
<body>
  <div id="graphiql" data-endpoint="${escapeHtml(options.endpoint)}" data-schema="${GRAPHIQL_PATH}/schema.json">Loading GraphiQL…</div>
  <script src="${react.url}"></script>
  <script src="${reactDom.url}"></script>
  <script src="${script.url}"></script>
  <script src="${GRAPHIQL_PATH}/main.js"></script>
</body>
</html>
`;

  const send = (reply: FastifyReply, contentType: string, cacheControl: string, body: string | Buffer): FastifyReply =>
    reply.type(contentType).header('cache-control', cacheControl).send(body);

  app.get(GRAPHIQL_PATH, async (_request, reply) => send(reply, 'text/html; charset=utf-8', REVALIDATE, page));
  app.get(`${GRAPHIQL_PATH}/main.js`, async (_request, reply) => send(reply, JS, REVALIDATE, MAIN_JS));
  app.get(`${GRAPHIQL_PATH}/main.css`, async (_request, reply) => send(reply, CSS, REVALIDATE, MAIN_CSS));
  let introspection: string | undefined;
  app.get(`${GRAPHIQL_PATH}/schema.json`, async (_request, reply) => {
    introspection ??= JSON.stringify(introspectionFromSchema(buildSchema(typeDefs)));
    return send(reply, 'application/json; charset=utf-8', REVALIDATE, introspection);
  });

  // Read on first request (GraphiQL's script is 3.5 MB), then kept: a development server only.
  for (const asset of [react, reactDom, script, stylesheet, scriptMap, stylesheetMap]) {
    if (asset === undefined) continue;
    let content: Promise<Buffer> | undefined;
    app.get(asset.url, async (_request, reply) => {
      content ??= readFile(asset.file).catch((error: unknown) => {
        content = undefined; // retried on the next request
        throw error;
      });
      return send(reply, asset.contentType, IMMUTABLE, await content);
    });
  }
};
