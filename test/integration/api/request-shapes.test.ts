/**
 * Issue #11: no request shape a client can send reaches a 5xx. Every malformed GraphQL request over
 * POST, GET and WebSocket is answered with a 4xx (WebSocket: a close 4400, as graphql-ws closes an
 * invalid message) and a coded error, never KEEL_ERR_INTERNAL; the well-formed variants the GraphQL
 * over HTTP draft allows (null `variables`, `operationName`, `extensions`; `application/graphql`;
 * Accept `application/graphql-response+json`) are served. One table per transport.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { initRawSocket } from '../../support/api-ws-raw.js';
import type { RawGraphqlSocket } from '../../support/api-ws-raw.js';

const BODY_LIMIT = 65_536;
const JSON_TYPE = { 'content-type': 'application/json' };
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

const post = (body: unknown, headers: Record<string, string> = JSON_TYPE): InjectOptions => ({ method: 'POST', url: '/graphql', headers, payload: JSON.stringify(body) });
const raw = (payload: string | Buffer, headers: Record<string, string> = JSON_TYPE): InjectOptions => ({ method: 'POST', url: '/graphql', headers, payload });
const get = (search: string, headers: Record<string, string> = {}): InjectOptions => ({ method: 'GET', url: `/graphql?${search}`, headers });
const q = (text: string): string => encodeURIComponent(text);

const TYPENAME = '{ __typename }';
/** A JSON body whose variable `x` is `depth` nested arrays (built as text: JSON.stringify would recurse). */
const nested = (query: string, depth: number): string => `{"query":${JSON.stringify(query)},"variables":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

interface Row {
  readonly name: string;
  readonly request: InjectOptions;
  readonly status: number;
  /** The first error's code; undefined: served, no errors. */
  readonly code?: string;
  /** The response's media type (default application/json). */
  readonly type?: string;
}

const GOOD = 200;
const rows: readonly Row[] = [
  // `query` of the wrong type, or none
  { name: 'POST query is a number', request: post({ query: 1 }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is a boolean', request: post({ query: true }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is an object', request: post({ query: { kind: 'Document', definitions: [] } }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is an array', request: post({ query: [TYPENAME] }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is null', request: post({ query: null }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST no query', request: post({ variables: {} }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is JSON text ("1")', request: post({ query: '1' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is JSON text ("null")', request: post({ query: 'null' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query is a JSON-encoded document', request: post({ query: JSON.stringify({ kind: 'Document', definitions: [] }) }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST query has a syntax error', request: post({ query: '{ __typename' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  // `variables`, `operationName`, `extensions` of the wrong type
  { name: 'POST variables is an array', request: post({ query: TYPENAME, variables: [1] }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST variables is a string', request: post({ query: TYPENAME, variables: '{}' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST variables is a number', request: post({ query: TYPENAME, variables: 1 }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST variables is a boolean', request: post({ query: TYPENAME, variables: false }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST operationName is a number', request: post({ query: TYPENAME, operationName: 5 }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST operationName is an object', request: post({ query: TYPENAME, operationName: {} }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST operationName is an array', request: post({ query: TYPENAME, operationName: ['A'] }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST extensions is a string', request: post({ query: TYPENAME, extensions: '{}' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST extensions is an array', request: post({ query: TYPENAME, extensions: [] }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST extensions is a number', request: post({ query: TYPENAME, extensions: 1 }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  // null is allowed for each optional parameter
  { name: 'POST null variables, operationName and extensions', request: post({ query: TYPENAME, variables: null, operationName: null, extensions: null }), status: GOOD },
  { name: 'POST empty variables and extensions objects', request: post({ query: TYPENAME, variables: {}, extensions: {} }), status: GOOD },
  // bodies
  { name: 'POST batched array', request: post([{ query: TYPENAME }, { query: TYPENAME }]), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST batched array of one', request: post([{ query: TYPENAME }]), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body is a JSON string', request: post(TYPENAME), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body is a JSON number', request: raw('42'), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body is JSON null', request: raw('null'), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST empty body', request: raw(''), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body not JSON', request: raw('{"query": '), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body with __proto__', request: raw('{"query":"{ __typename }","__proto__":{"x":1}}'), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST body with invalid UTF-8 bytes', request: raw(Buffer.concat([Buffer.from('{"query":"{ __typename }","variables":{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')])), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST variables 10,000 arrays deep', request: raw(nested('query ($x: String) { __typename }', 10_000)), status: 400, code: 'KEEL_ERR_VALIDATION' },
  { name: 'POST unused variable 10,000 arrays deep', request: raw(nested(TYPENAME, 10_000)), status: GOOD },
  { name: 'POST variables larger than BODY_LIMIT_BYTES', request: post({ query: TYPENAME, variables: { x: 'a'.repeat(BODY_LIMIT) } }), status: 413, code: 'KEEL_ERR_BODY_TOO_LARGE' },
  // content types
  { name: 'POST text/plain', request: raw(JSON.stringify({ query: TYPENAME }), { 'content-type': 'text/plain' }), status: 415, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST application/x-www-form-urlencoded', request: raw(`query=${q(TYPENAME)}`, { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST multipart/form-data', request: raw('--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--b--\r\n', { 'content-type': 'multipart/form-data; boundary=b' }), status: 415, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST no content type, with a body', request: raw(JSON.stringify({ query: TYPENAME }), {}), status: 415, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST no content type, no body', request: { method: 'POST', url: '/graphql' }, status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST application/graphql', request: raw(TYPENAME, { 'content-type': 'application/graphql' }), status: GOOD },
  { name: 'POST application/graphql, syntax error', request: raw('{ __typename', { 'content-type': 'application/graphql' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  // mercurius' own parser (in its routes' context) reads the bytes as U+FFFD: a served query.
  { name: 'POST application/graphql, invalid UTF-8', request: raw(Buffer.concat([Buffer.from('{ __type(name: "'), Buffer.from([0xc3, 0x28]), Buffer.from('") { name } }')]), { 'content-type': 'application/graphql' }), status: GOOD },
  // operations
  { name: 'POST unknown operationName', request: post({ query: 'query A { __typename }', operationName: 'B' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST empty operationName', request: post({ query: 'query A { __typename }', operationName: '' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST several operations, no operationName', request: post({ query: 'query A { __typename } query B { __typename }' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST several operations, one named', request: post({ query: 'query A { __typename } query B { __typename }', operationName: 'B' }), status: GOOD },
  { name: 'POST subscription', request: post({ query: 'subscription { availabilityChanged(sku: "LAMP") { sku } }' }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  // GET
  { name: 'GET query', request: get(`query=${q(TYPENAME)}`), status: GOOD },
  { name: 'GET no query', request: get('variables=%7B%7D'), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET query given twice', request: get(`query=${q(TYPENAME)}&query=${q(TYPENAME)}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET query is JSON text', request: get('query=1'), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET variables not JSON', request: get(`query=${q(TYPENAME)}&variables=%7Bnope`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET variables a JSON array', request: get(`query=${q(TYPENAME)}&variables=${q('[1]')}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET variables a JSON number', request: get(`query=${q(TYPENAME)}&variables=1`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET variables null', request: get(`query=${q(TYPENAME)}&variables=null`), status: GOOD },
  { name: 'GET extensions a JSON string', request: get(`query=${q(TYPENAME)}&extensions=${q('"x"')}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET extensions null', request: get(`query=${q(TYPENAME)}&extensions=null`), status: GOOD },
  { name: 'GET operationName given twice', request: get(`query=${q('query A { __typename }')}&operationName=A&operationName=A`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET unknown operationName', request: get(`query=${q('query A { __typename }')}&operationName=B`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET several operations, no operationName', request: get(`query=${q('query A { __typename } query B { __typename }')}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET mutation', request: get(`query=${q('mutation { __typename }')}`), status: 405, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET subscription', request: get(`query=${q('subscription { availabilityChanged(sku: "LAMP") { sku } }')}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'GET variables 10,000 arrays deep', request: get(`query=${q('query ($x: String) { __typename }')}&variables=${q(`{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)}`), status: 400, code: 'KEEL_ERR_VALIDATION' },
  // The query-string parser leaves a value with invalid percent-encoded UTF-8 undecoded: not GraphQL.
  { name: 'GET invalid percent-encoded UTF-8', request: get(`query=${q('{ __type(name: "')}%FF%FE${q('") { name } }')}`), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  // Accept
  { name: `POST Accept ${GRAPHQL_RESPONSE}`, request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: GOOD, type: GRAPHQL_RESPONSE },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, application/json;q=0.9`, request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: `${GRAPHQL_RESPONSE}, application/json;q=0.9` }), status: GOOD, type: GRAPHQL_RESPONSE },
  { name: `POST Accept application/json, ${GRAPHQL_RESPONSE};q=0.5`, request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: `application/json, ${GRAPHQL_RESPONSE};q=0.5` }), status: GOOD, type: 'application/json' },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, syntax error`, request: post({ query: '{' }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION', type: GRAPHQL_RESPONSE },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, wrong type`, request: post({ query: 1 }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION', type: GRAPHQL_RESPONSE },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, body not JSON`, request: raw('{', { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION', type: GRAPHQL_RESPONSE },
  // Executed with a field error (this harness has no read side): data is present, so 200.
  { name: `POST Accept ${GRAPHQL_RESPONSE}, executed with errors`, request: post({ query: '{ product(id: "p-1") { id } }' }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: GOOD, code: 'KEEL_ERR_READ_SIDE_UNAVAILABLE', type: GRAPHQL_RESPONSE },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, a variable of the wrong type`, request: post({ query: 'query ($id: ID!) { product(id: $id) { id } }', variables: { id: [] } }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE }), status: 400, code: 'KEEL_ERR_VALIDATION', type: GRAPHQL_RESPONSE },
  { name: `POST Accept ${GRAPHQL_RESPONSE}, a bad token`, request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: GRAPHQL_RESPONSE, authorization: 'Bearer nope' }), status: 401, code: 'UNAUTHENTICATED', type: GRAPHQL_RESPONSE },
  { name: `GET Accept ${GRAPHQL_RESPONSE}`, request: get(`query=${q(TYPENAME)}`, { accept: GRAPHQL_RESPONSE }), status: GOOD, type: GRAPHQL_RESPONSE },
  { name: 'POST Accept */*', request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: '*/*' }), status: GOOD },
  { name: 'POST Accept application/*', request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: 'application/*' }), status: GOOD },
  { name: 'POST Accept text/html', request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: 'text/html' }), status: 406, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
  { name: 'POST Accept application/json;q=0', request: post({ query: TYPENAME }, { ...JSON_TYPE, accept: 'application/json;q=0' }), status: 406, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
];

describe('GraphQL request shapes (issue #11): 4xx and a coded error for anything malformed, never a 5xx', () => {
  let h: ApiHarness;
  let url: string;
  const sockets: RawGraphqlSocket[] = [];
  beforeAll(async () => {
    h = await openApiHarness('api_request_shapes', { env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const socket of sockets) await socket.close();
    await h?.close();
  });

  it.each(rows)('HTTP: $name → $status $code', async ({ request, status, code, type }) => {
    const response = await h.app.inject(request);
    const body: { readonly data?: unknown; readonly errors?: ReadonlyArray<{ readonly extensions?: { readonly code?: unknown } }> } = response.json();
    const codes = (body.errors ?? []).map((e) => e.extensions?.code);
    expect(codes).not.toContain('KEEL_ERR_INTERNAL');
    expect(response.statusCode).toBeLessThan(500);
    expect({ status: response.statusCode, code: codes[0] }).toEqual({ status, code });
    expect(String(response.headers['content-type'])).toContain(type ?? 'application/json');
    // The draft: data present means 2xx; none means the request failed before execution (4xx).
    if (status === GOOD) expect(body.data).toBeDefined();
    else expect(body.data).toBeUndefined();
    if (status === 405) expect(response.headers.allow).toBe('POST');
  });

  interface WsRow {
    readonly name: string;
    readonly message: string | Readonly<Record<string, unknown>>;
  }
  const SUBSCRIPTION = 'subscription { availabilityChanged(sku: "LAMP") { sku } }';
  const wsRows: readonly WsRow[] = [
    { name: 'not JSON', message: '{"type":' },
    { name: 'a JSON array', message: '[]' },
    { name: 'a JSON number', message: '1' },
    { name: 'no type', message: { id: '1', payload: { query: SUBSCRIPTION } } },
    { name: 'type is a number', message: { type: 1 } },
    { name: 'an unknown type', message: { type: 'start_everything' } },
    { name: 'subscribe, payload.query a number', message: { type: 'subscribe', id: '1', payload: { query: 1 } } },
    { name: 'subscribe, payload.query an object', message: { type: 'subscribe', id: '1', payload: { query: { kind: 'Document', definitions: [] } } } },
    { name: 'subscribe, no payload.query', message: { type: 'subscribe', id: '1', payload: {} } },
    { name: 'subscribe, payload a string', message: { type: 'subscribe', id: '1', payload: SUBSCRIPTION } },
    { name: 'subscribe, payload null', message: { type: 'subscribe', id: '1', payload: null } },
    { name: 'subscribe, payload an array', message: { type: 'subscribe', id: '1', payload: [SUBSCRIPTION] } },
    { name: 'subscribe, variables an array', message: { type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION, variables: [1] } } },
    { name: 'subscribe, variables a string', message: { type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION, variables: '{}' } } },
    { name: 'subscribe, operationName a number', message: { type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION, operationName: 1 } } },
    { name: 'subscribe, extensions an array', message: { type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION, extensions: [] } } },
    { name: 'subscribe, id a number', message: { type: 'subscribe', id: 1, payload: { query: SUBSCRIPTION } } },
    { name: 'subscribe, id an object', message: { type: 'subscribe', id: {}, payload: { query: SUBSCRIPTION } } },
    { name: 'subscribe, no id', message: { type: 'subscribe', payload: { query: SUBSCRIPTION } } },
    { name: 'subscribe, empty id', message: { type: 'subscribe', id: '', payload: { query: SUBSCRIPTION } } },
    { name: 'subscribe, unknown operationName', message: { type: 'subscribe', id: '1', payload: { query: 'subscription A { availabilityChanged(sku: "LAMP") { sku } }', operationName: 'B' } } },
    { name: 'subscribe, several operations, no operationName', message: { type: 'subscribe', id: '1', payload: { query: `subscription A { availabilityChanged(sku: "A") { sku } } subscription B { availabilityChanged(sku: "B") { sku } }` } } },
    { name: 'subscribe, a query (only subscriptions over WebSocket)', message: { type: 'subscribe', id: '1', payload: { query: TYPENAME } } },
    { name: 'subscribe, query is JSON text', message: { type: 'subscribe', id: '1', payload: { query: '{"kind":"Document","definitions":[]}' } } },
    { name: 'subscribe, syntax error', message: { type: 'subscribe', id: '1', payload: { query: 'subscription { availabilityChanged(sku: "A") { sku }' } } },
    { name: 'complete, id a number', message: { type: 'complete', id: 1 } },
    { name: 'connection_init again, payload a string', message: { type: 'connection_init', payload: 'Bearer x' } },
  ];

  it.each(wsRows)('WebSocket: $name → close 4400 KEEL_ERR_GRAPHQL_VALIDATION', async ({ message }) => {
    const { socket, acked } = await initRawSocket(url);
    sockets.push(socket);
    expect(acked).toBe(true);
    socket.send(message);
    const closed = await socket.closed(5_000);
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/^KEEL_ERR_GRAPHQL_VALIDATION: /);
    // Whatever happened, the socket goes (anonymous sockets count towards one client's cap).
    await socket.close();
  });

  it('WebSocket: a well-formed subscribe with null variables, operationName and extensions is not closed', async () => {
    const { socket, acked } = await initRawSocket(url);
    sockets.push(socket);
    expect(acked).toBe(true);
    socket.send({ type: 'subscribe', id: 'ok', payload: { query: SUBSCRIPTION, variables: null, operationName: null, extensions: null } });
    // No read side in this harness: the subscription is refused with a coded error, the socket stays.
    const answer = await socket.next('ok');
    expect(JSON.stringify(answer)).not.toContain('KEEL_ERR_INTERNAL');
    expect(socket.isOpen()).toBe(true);
    await socket.close();
  });
});
