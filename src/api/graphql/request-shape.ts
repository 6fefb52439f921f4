/**
 * The shape of a GraphQL-over-HTTP request (GraphQL Foundation's "GraphQL over HTTP" draft), checked
 * before anything reads it: mercurius given `{"query": 1}` fails inside (a 500), not as a bad request.
 *
 * - POST (a JSON object; mercurius' `application/graphql` body becomes `{ query }`): `query` a string;
 *   `variables` and `extensions` an object or null; `operationName` a string or null; other keys are
 *   ignored. A JSON array (a batch: mercurius' `allowBatchedQueries` is off) is refused.
 * - GET (the query string, a value per parameter: a repeated one is an array): `query` a string;
 *   `variables` and `extensions` JSON text of an object or null; `operationName` a string.
 *
 * Anything else is a request error: HTTP 400, KEEL_ERR_GRAPHQL_VALIDATION, naming the parameter.
 * mercurius' own JSON schemas for these requests are not applied (plugin.ts): fastify's validator
 * coerces types (`"query": 1` became "1", `["{ … }"]` its element) and refuses a null `extensions`
 * the specification allows. A well-formed POST costs a few typeof checks here.
 */
import type { GraphQLError } from 'graphql';
import type { ErrorCode } from '../../platform/errors.js';
import { graphql } from './graphql-runtime.js';

/** What the request asks for, once its shape is right. */
export interface GraphqlParams {
  readonly query: string;
  readonly operationName: string | undefined;
  /** Present when the request has variables (an object). */
  readonly variables: Record<string, unknown> | undefined;
}

export type ShapeVerdict = { readonly ok: true; readonly params: GraphqlParams } | { readonly ok: false; readonly error: GraphQLError };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** KEEL_ERR_GRAPHQL_VALIDATION, as the error formatter passes a coded GraphQLError on (HTTP 400). */
const refused = (message: string, parameter?: string): ShapeVerdict => ({
  ok: false,
  error: new graphql.GraphQLError(message, { extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' satisfies ErrorCode, ...(parameter === undefined ? {} : { parameter }) } }),
});

const NO_QUERY = 'The request has no GraphQL query.';
const wrongType = (parameter: string, expected: string, value: unknown): ShapeVerdict =>
  refused(`The request's \`${parameter}\` must be ${expected}, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}.`, parameter);

/** A POST body (parsed JSON, or mercurius' `{ query }` for `application/graphql`). */
export const postShape = (body: unknown): ShapeVerdict => {
  if (!isRecord(body)) {
    if (Array.isArray(body)) return refused('Batched requests (a JSON array) are not accepted: send one operation per request.');
    return refused(body === undefined || body === null ? NO_QUERY : 'The request body must be a JSON object: { "query": …, "variables": …, "operationName": … }.');
  }
  const { query, variables, operationName, extensions } = body;
  if (typeof query !== 'string') return query === undefined || query === null ? refused(NO_QUERY, 'query') : wrongType('query', 'a string', query);
  if (variables !== undefined && variables !== null && !isRecord(variables)) return wrongType('variables', 'an object or null', variables);
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return wrongType('operationName', 'a string or null', operationName);
  if (extensions !== undefined && extensions !== null && !isRecord(extensions)) return wrongType('extensions', 'an object or null', extensions);
  return { ok: true, params: { query, operationName: operationName ?? undefined, variables: variables ?? undefined } };
};

/** A GET parameter holding JSON text of an object (or null): its value, or why not. */
const jsonObjectParam = (parameter: string, text: unknown): { readonly value: Record<string, unknown> | undefined } | ShapeVerdict => {
  // mercurius reads an empty parameter as absent.
  if (text === undefined || text === '') return { value: undefined };
  if (typeof text !== 'string') return wrongType(parameter, 'JSON text of an object, given once', text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refused(`The request's \`${parameter}\` is not valid JSON.`, parameter);
  }
  if (value === null) return { value: undefined };
  return isRecord(value) ? { value } : wrongType(parameter, 'JSON text of an object or null', value);
};

/** A GET's query string (fastify's parse: each parameter a string, an array when repeated). */
export const getShape = (search: unknown): ShapeVerdict => {
  if (!isRecord(search)) return refused(NO_QUERY, 'query');
  const { query, operationName } = search;
  if (typeof query !== 'string') return query === undefined ? refused(NO_QUERY, 'query') : wrongType('query', 'a string, given once', query);
  if (operationName !== undefined && typeof operationName !== 'string') return wrongType('operationName', 'a string, given once', operationName);
  const variables = jsonObjectParam('variables', search.variables);
  if ('ok' in variables) return variables;
  const extensions = jsonObjectParam('extensions', search.extensions);
  if ('ok' in extensions) return extensions;
  return { ok: true, params: { query, operationName, variables: variables.value } };
};
