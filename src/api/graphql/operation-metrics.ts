/**
 * keel_graphql_*: every GraphQL request over HTTP, by operation name and type, with its duration,
 * its outcome and the codes of the errors it answered. The operation is named by mercurius'
 * `preExecution` hook (the parsed document is there); a request refused before execution (bad
 * token, rate limit, validation) is counted under the name its body gives, as type `unknown`.
 *
 * Operation names are the client's words: a label per name would let any client grow the series
 * without bound. Names must look like GraphQL names (at most 64 characters), and after
 * `MAX_OPERATION_NAMES` distinct ones every new name is counted as `other`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { metrics, observeTraced } from '../../platform/metrics.js';

export const MAX_OPERATION_NAMES = 200;

interface Operation {
  readonly name: string;
  readonly type: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The GraphQL operation the request ran (null until mercurius executes one). */
    keelOperation: Operation | null;
    /** Codes of the GraphQL errors answered (null: none). */
    keelErrorCodes: string[] | null;
  }
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const known = new Set<string>();

/** The label for a client's operation name: itself while the set of names is small, else `other`. */
const labelOf = (name: string | undefined): string => {
  if (name === undefined) return 'anonymous';
  if (!NAME.test(name)) return 'invalid';
  if (known.has(name)) return name;
  if (known.size >= MAX_OPERATION_NAMES) return 'other';
  known.add(name);
  return name;
};

/** The operation a document runs: the one named, or its only one; anonymous ones by their first field. */
const operationIn = (document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | undefined => {
  for (const definition of document.definitions) {
    if (definition.kind !== 'OperationDefinition') continue;
    if (operationName === undefined || definition.name?.value === operationName) return definition;
  }
  return undefined;
};

const bodyOperationName = (request: FastifyRequest): string | undefined => {
  const source = request.method === 'GET' ? request.query : request.body;
  const name = typeof source === 'object' && source !== null ? Reflect.get(source, 'operationName') : undefined;
  return typeof name === 'string' ? name : undefined;
};

/** Names the request's operation; called from mercurius' preExecution hook. */
export const noteOperation = (request: FastifyRequest, document: DocumentNode): void => {
  const given = bodyOperationName(request);
  const operation = operationIn(document, given);
  if (operation === undefined) return;
  const field = operation.selectionSet.selections[0];
  const anonymous = field?.kind === 'Field' ? field.name.value : undefined;
  request.keelOperation = { name: labelOf(operation.name?.value ?? anonymous), type: operation.operation };
};

/** Notes the codes of the errors a request answers; called by the error formatter. */
export const noteErrorCodes = (request: FastifyRequest, codes: readonly string[]): void => {
  request.keelErrorCodes = [...(request.keelErrorCodes ?? []), ...codes];
};

/** Registers the request decorations and the onResponse hook on the GraphQL plugin's instance. */
export const registerOperationMetrics = (app: FastifyInstance): void => {
  app.decorateRequest('keelOperation', null);
  app.decorateRequest('keelErrorCodes', null);
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // A WebSocket's upgrade: its subscriptions are not requests of their own.
    if (Reflect.get(request, 'ws') === true) return done();
    const operation = request.keelOperation ?? { name: labelOf(bodyOperationName(request)), type: 'unknown' };
    const codes = request.keelErrorCodes;
    const failed = codes !== null || reply.statusCode >= 400;
    metrics.graphqlOperations.inc({ operation: operation.name, type: operation.type, outcome: failed ? 'error' : 'ok' });
    observeTraced(metrics.graphqlDuration, { operation: operation.name, type: operation.type }, reply.elapsedTime / 1000, request.keelSpan?.spanContext().traceId);
    for (const code of codes ?? []) metrics.graphqlErrors.inc({ operation: operation.name, code });
    done();
  });
};
