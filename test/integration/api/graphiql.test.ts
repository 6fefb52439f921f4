/**
 * GraphiQL, self-hosted (app.inject): in development `/graphiql` serves a page whose scripts and
 * stylesheets all come from Keel (the installed react, react-dom and graphiql packages, byte for
 * byte), with content types, cache headers and a CSP with no other origin; in production the page
 * and every asset are 404. The editor opens on a Keel example query (valid against the schema,
 * like the operations its comments show). The page in a real browser: test/e2e/api/graphiql-browser.test.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_DEFAULT_QUERY } from '../../../src/api/graphiql.js';
import { typeDefs } from '../../../src/api/graphql/schema.js';
import { openApiHarness } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const require = createRequire(import.meta.url);
const installed = (name: string, file: string): Buffer => readFileSync(join(dirname(require.resolve(`${name}/package.json`)), file));
const versionOf = (name: string): string => {
  const manifest: unknown = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
  const version: unknown = typeof manifest === 'object' && manifest !== null ? Reflect.get(manifest, 'version') : undefined;
  if (typeof version !== 'string') throw new Error(`${name}: no version`);
  return version;
};

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const ASSETS = [
  { url: `/graphiql/assets/react@${versionOf('react')}/react.production.min.js`, type: JS, content: installed('react', 'umd/react.production.min.js') },
  { url: `/graphiql/assets/react-dom@${versionOf('react-dom')}/react-dom.production.min.js`, type: JS, content: installed('react-dom', 'umd/react-dom.production.min.js') },
  { url: `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js`, type: JS, content: installed('graphiql', 'graphiql.min.js') },
  { url: `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.css`, type: CSS, content: installed('graphiql', 'graphiql.min.css') },
] as const;
const OWN = ['/graphiql/main.js', '/graphiql/main.css', '/graphiql/schema.json'] as const;

describe('GraphiQL, self-hosted (app.inject)', () => {
  let side: WriteSide;
  let dev: ApiHarness;
  let prod: ApiHarness;
  beforeAll(async () => {
    side = await openWriteSide('api_graphiql');
    dev = await openApiHarness('api_graphiql', { side, env: { NODE_ENV: 'development' } });
    prod = await openApiHarness('api_graphiql', { side, env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await dev?.close();
    await prod?.close();
    await side?.close();
  });

  it('serves the page in development: only same-origin scripts and stylesheets, in order, under a CSP without other origins', async () => {
    const page = await dev.app.inject('/graphiql');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"><\/script>/g)].map((m) => m[1]);
    expect(scripts).toEqual([ASSETS[0].url, ASSETS[1].url, ASSETS[2].url, '/graphiql/main.js']);
    const stylesheets = [...page.body.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]);
    expect(stylesheets).toEqual([ASSETS[3].url, '/graphiql/main.css']);
    expect(page.body).toContain('data-endpoint="/graphql"');
    // No inline script, nothing from elsewhere.
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.body).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(page.body).not.toContain('unpkg');

    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self';");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("script-src-attr 'none';");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).toContain("frame-ancestors 'none';");
    expect(csp).not.toContain('unpkg');
    expect(csp).not.toContain('https:');
    // Plain HTTP in development: upgrading would send the page's own scripts to https://.
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('serves the four vendor files from the installed packages, byte for byte, cacheable for a year', async () => {
    for (const asset of ASSETS) {
      const response = await dev.app.inject(asset.url);
      expect(response.statusCode, asset.url).toBe(200);
      expect(response.headers['content-type'], asset.url).toBe(asset.type);
      expect(response.headers['cache-control'], asset.url).toBe(IMMUTABLE);
      expect(response.rawPayload.equals(asset.content), asset.url).toBe(true);
      const head = await dev.app.inject({ method: 'HEAD', url: asset.url });
      expect(head.statusCode, `HEAD ${asset.url}`).toBe(200);
    }
    // The source maps the minified files name (fetched by developer tools) are there too.
    const map = await dev.app.inject(`/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js.map`);
    expect(map.statusCode).toBe(200);
    expect(map.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((await dev.app.inject(`/graphiql/assets/react@${versionOf('react')}/react.development.js`)).statusCode).toBe(404);
    expect((await dev.app.inject('/graphiql/assets/graphiql@0.0.1/graphiql.min.js')).statusCode).toBe(404);
  });

  it('serves its own script, stylesheet and the schema, revalidated on every load', async () => {
    const main = await dev.app.inject('/graphiql/main.js');
    expect(main.statusCode).toBe(200);
    expect(main.headers['content-type']).toBe(JS);
    expect(main.headers['cache-control']).toBe('no-cache');
    expect(main.body).toContain('GraphiQL.createFetcher');
    expect(main.body).not.toMatch(/https?:\/\//);
    const css = await dev.app.inject('/graphiql/main.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe(CSS);

    // The served schema, introspected (GraphiQL's own introspection query nests deeper than
    // QUERY_MAX_DEPTH allows): its types are those a shallow introspection through /graphql lists.
    const schema = await dev.app.inject('/graphiql/schema.json');
    expect(schema.statusCode).toBe(200);
    expect(schema.headers['content-type']).toBe('application/json; charset=utf-8');
    const served: unknown = schema.json();
    expect(served).toMatchObject({ __schema: { queryType: { name: 'Query' }, mutationType: { name: 'Mutation' }, subscriptionType: { name: 'Subscription' } } });
    const shallow = await dev.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ query: '{ __schema { types { name } } }' }),
    });
    const names = (value: unknown): string[] => {
      const types: unknown = Reflect.get(Reflect.get(value as object, '__schema') as object, 'types');
      return Array.isArray(types) ? types.map((t: unknown) => String(Reflect.get(t as object, 'name'))).sort() : [];
    };
    expect(names(served)).toEqual(names(shallow.json().data));
  });

  it('opens the editor on a Keel example: a catalog query that runs as is, and comments whose operations are valid', async () => {
    // main.js hands it to GraphiQL as defaultQuery (the text a first visit shows).
    const main = await dev.app.inject('/graphiql/main.js');
    expect(main.body).toContain(`defaultQuery: defaultQuery`);
    expect(main.body).toContain(`var defaultQuery = ${JSON.stringify(GRAPHIQL_DEFAULT_QUERY)};`);
    expect(GRAPHIQL_DEFAULT_QUERY).toContain('products(first: 5)');
    expect(GRAPHIQL_DEFAULT_QUERY).toContain('{"authorization": "Bearer <token>"}');
    expect(GRAPHIQL_DEFAULT_QUERY).toContain('npm run --silent keel -- token --sub alice --role customer');
    expect(GRAPHIQL_DEFAULT_QUERY).toContain('consistencyToken');

    // The operation itself is valid (test/e2e/api/graphiql-browser.test.ts runs it, with no token).
    const schema = buildSchema(typeDefs);
    expect(validate(schema, parse(GRAPHIQL_DEFAULT_QUERY))).toEqual([]);

    // So are the operations the comments show (`#   mutation { … }`, `#   query { … }`).
    const commented = [...GRAPHIQL_DEFAULT_QUERY.matchAll(/^#\s+((?:mutation|query) \{.*\})$/gm)].map((m) => m[1] ?? '');
    expect(commented).toHaveLength(2);
    for (const operation of commented) expect(validate(schema, parse(operation)), operation).toEqual([]);
  });

  it('serves neither the page nor any asset in production', async () => {
    for (const url of ['/graphiql', ...OWN, ...ASSETS.map((a) => a.url), '/graphiql/main.js?v=1']) {
      expect((await prod.app.inject(url)).statusCode, url).toBe(404);
    }
    const csp = String((await prod.app.inject('/health')).headers['content-security-policy']);
    expect(csp).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});
