/**
 * Media types of /graphql (GraphQL over HTTP draft): which one a response is sent as (the Accept
 * header) and how request bodies are read (the Content-Type).
 *
 * - Accept: `application/graphql-response+json` when the client accepts it at least as much as
 *   `application/json`; `application/json` otherwise, and without Accept or with a wildcard
 *   range (`application/*` or the any-type one). An Accept that allows neither is refused: 406. Keel's status codes are the same
 *   for both media types (a request that fails before execution: 4xx; an executed one: 200).
 * - Bodies: `application/json` (UTF-8: a body with invalid UTF-8 bytes is refused, 400, rather than
 *   read with U+FFFD in their place) and mercurius' `application/graphql` (the query text alone;
 *   mercurius' parser, in its routes' own context, decodes invalid bytes as U+FFFD). fastify's
 *   `text/plain` parser is removed (a browser sends text/plain cross-site without a preflight):
 *   like any other type, it is refused with 415.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
/** What a response is sent as when the client accepts GRAPHQL_RESPONSE_JSON. */
export const GRAPHQL_RESPONSE_TYPE = `${GRAPHQL_RESPONSE_JSON}; charset=utf-8`;

export type ResponseMedia = 'graphql-response' | 'json';

/** The media type of the response for an Accept header; undefined when it allows neither (406). */
export const responseMedia = (accept: string | undefined): ResponseMedia | undefined => {
  // The common cases first: one comparison each.
  if (accept === undefined || accept === '' || accept === 'application/json' || accept === '*/*') return 'json';
  let graphqlResponse = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';');
    const media = type.trim().toLowerCase();
    const q = qualityOf(parameters);
    if (media === GRAPHQL_RESPONSE_JSON) graphqlResponse = Math.max(graphqlResponse, q);
    else if (media === 'application/json' || media === 'application/*' || media === '*/*') json = Math.max(json, q);
  }
  if (graphqlResponse > 0 && graphqlResponse >= json) return 'graphql-response';
  return json > 0 ? 'json' : undefined;
};

/** A media range's `q` (default 1; an unreadable one counts as 1, as most servers read it). */
const qualityOf = (parameters: readonly string[]): number => {
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'q') continue;
    const q = Number(value.trim());
    return Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 1;
  }
  return 1;
};

/** HTTP 406, through the error formatter (KEEL_ERR_GRAPHQL_VALIDATION). */
export const notAcceptable = (): Error =>
  Object.assign(new Error(`The Accept header allows neither ${GRAPHQL_RESPONSE_JSON} nor application/json.`), { statusCode: 406 });

/** HTTP 400 for a body that is not UTF-8 (fastify's request errors carry a statusCode). */
const notUtf8 = (): Error => Object.assign(new Error('The request body is not valid UTF-8.'), { statusCode: 400 });

/**
 * The body parsers of the GraphQL plugin's context (call before mercurius is registered: its routes'
 * context copies these when it is made). JSON goes through fastify's own parser (prototype
 * poisoning refused, empty and invalid bodies answered as before) once its bytes are known to be
 * UTF-8 (a SIMD check).
 */
export const useGraphqlBodyParsers = (app: FastifyInstance): void => {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
    if (!isUtf8(body)) return done(notUtf8(), undefined);
    json(request, body.toString('utf8'), done);
  });
};
