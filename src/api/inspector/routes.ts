/**
 * The inspector: a web page at `/inspector` for operators (admins) to look into the event log and
 * the projections. The page and its files are public (they hold no data, assets.ts); its data
 * comes from `/inspector/api/…`, JSON routes that require a bearer token with the admin role,
 * verified by the API's own `authenticate` (auth.ts: signature, claims, lifetime, revocations):
 * 401 UNAUTHENTICATED without one (or with a bad one), 403 FORBIDDEN for a non-admin, before
 * anything else is looked at (the body is not even parsed).
 *
 * The routes read through src/replay/ and the projection engine's public interface (queries.ts),
 * on the event store and the primary database the process opened; they are apart from the public
 * read side, whose GraphQL queries read projections only (never the event log). A process with no
 * store wired in (an API-only test app) answers 503 KEEL_ERR_EVENTSTORE_UNAVAILABLE.
 *
 * Errors are `{ "error": { "code", "message", "details"? } }`: 404 for a stream, order, parked
 * event or projection that is not there, 400 for a bad parameter (KEEL_ERR_VALIDATION,
 * KEEL_ERR_REPLAY_*), 409 when the engine refuses (a projection that needs a rebuild), 500
 * KEEL_ERR_INTERNAL otherwise (details in the server log).
 *
 * Retry and skip change a projection: they are POSTs whose body must be `{ "confirm": true }` (the
 * page asks in a dialog first), so a stray request does nothing.
 */
import fastifyJwt from '@fastify/jwt';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isKeelError, KeelError, type ErrorCode } from '../../platform/errors.js';
import { authenticate, requireRole } from '../auth.js';
import { INSPECTOR_PATH, inspectorAssetsPlugin } from './assets.js';
import {
  actOnParked,
  InspectorError,
  lineage,
  orderStory,
  parkedEvents,
  projections,
  recentEvents,
  search,
  storyLimit,
  streamStory,
  timeline,
  wholeNumber,
  type InspectorDeps,
} from './queries.js';

export { INSPECTOR_PATH } from './assets.js';
export type { InspectorDeps } from './queries.js';

export const INSPECTOR_API_PATH = `${INSPECTOR_PATH}/api`;

export interface InspectorPluginOptions {
  /** The API's JWT_SECRET (tokens are verified as everywhere else in the API). */
  readonly jwtSecret: string;
  /** Absent: the page is served, its data routes answer 503. */
  readonly deps?: InspectorDeps | undefined;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  KEEL_ERR_VALIDATION: 400,
  KEEL_ERR_STREAM_NOT_FOUND: 404,
  KEEL_ERR_ORDER_NOT_FOUND: 404,
  KEEL_ERR_PARKED_EVENT_NOT_FOUND: 404,
  KEEL_ERR_PROJECTION_VERIFY_FAILED: 409,
  KEEL_ERR_PROJECTION_REBUILD_RUNNING: 409,
  KEEL_ERR_EVENTSTORE_UNAVAILABLE: 503,
  KEEL_ERR_BODY_TOO_LARGE: 413,
};

const statusOf = (error: KeelError): number => {
  if (error instanceof InspectorError) return error.httpStatus;
  if (error.code.startsWith('KEEL_ERR_REPLAY_')) return 400;
  return STATUS[error.code] ?? 500;
};

const sendError = (reply: FastifyReply, status: number, code: ErrorCode, message: string, details?: Readonly<Record<string, unknown>>): FastifyReply => {
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  const body = { error: { code, message, ...(details === undefined || Object.keys(details).length === 0 ? {} : { details }) } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
};

/** A query-string parameter given once, or undefined. */
const param = (request: FastifyRequest, name: string): string | undefined => {
  const value: unknown = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new KeelError('KEEL_ERR_VALIDATION', `${name}: give it once, as text.`, { field: name });
  return value;
};

const pathParam = (request: FastifyRequest, name: string): string => {
  const value: unknown = (request.params as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw new KeelError('KEEL_ERR_VALIDATION', `${name}: 1 to 200 characters.`, { field: name });
  return value;
};

const confirmed = (request: FastifyRequest): void => {
  const body: unknown = request.body;
  if (typeof body === 'object' && body !== null && Reflect.get(body, 'confirm') === true) return;
  throw new KeelError('KEEL_ERR_VALIDATION', 'confirm: this changes a projection; send the JSON body {"confirm": true} to do it.', { field: 'confirm' });
};

const dataRoutes = (api: FastifyInstance, deps: InspectorDeps | undefined): void => {
  const need = (): InspectorDeps => {
    if (deps !== undefined) return deps;
    throw new KeelError(
      'KEEL_ERR_EVENTSTORE_UNAVAILABLE',
      'The inspector has no event store or database in this process (it reads them in the roles all and api of `keel serve`).',
    );
  };

  api.get('/session', async (request) => {
    const user = requireRole(authenticate(api, request.headers.authorization), 'the inspector', 'admin');
    return { subject: user.subject, roles: [...user.roles], expiresAt: new Date(user.expiresAt * 1000).toISOString(), available: deps !== undefined };
  });

  api.get('/search', async (request) => {
    const q = (param(request, 'q') ?? '').trim();
    if (q.length === 0 || q.length > 200) throw new KeelError('KEEL_ERR_VALIDATION', 'q: a stream id prefix, an event type or an id, 1 to 200 characters.', { field: 'q' });
    const after = param(request, 'after');
    return search(need(), q, after === undefined ? undefined : wholeNumber('after', after, 'KEEL_ERR_REPLAY_BAD_POSITION'));
  });

  api.get('/events/recent', async (request) => {
    const after = param(request, 'after');
    return recentEvents(need(), after === undefined ? undefined : wholeNumber('after', after, 'KEEL_ERR_REPLAY_BAD_POSITION', true));
  });

  api.get('/streams/:id/timeline', async (request) => {
    const from = param(request, 'from');
    return timeline(need(), pathParam(request, 'id'), from === undefined ? 0n : wholeNumber('from', from, 'KEEL_ERR_REPLAY_BAD_REVISION'));
  });

  api.get('/streams/:id/story', async (request) => streamStory(need(), pathParam(request, 'id'), storyLimit(param(request, 'limit'))));

  api.get('/orders/:id/story', async (request) => orderStory(need(), pathParam(request, 'id')));

  api.get('/projections', async () => projections(need()));

  api.get('/projections/:name/parked', async (request) => parkedEvents(need(), pathParam(request, 'name')));

  for (const action of ['retry', 'skip'] as const) {
    api.post(`/projections/:name/parked/:id/${action}`, async (request) => {
      const id = pathParam(request, 'id');
      wholeNumber('id', id);
      confirmed(request);
      return actOnParked(need(), pathParam(request, 'name'), id, action);
    });
  }

  api.get('/projections/:name/lineage/:key', async (request) => lineage(need(), pathParam(request, 'name'), pathParam(request, 'key')));
};

const apiPlugin: FastifyPluginAsync<InspectorPluginOptions> = async (api, options) => {
  await api.register(fastifyJwt, { secret: options.jwtSecret, verify: { algorithms: ['HS256'] } });
  // Every data route, and every unknown path under it: an admin's token first, before the body is read.
  api.addHook('onRequest', async (request) => {
    requireRole(authenticate(api, request.headers.authorization), 'the inspector', 'admin');
  });
  api.setErrorHandler((error: FastifyError | KeelError | Error, request, reply) => {
    if (isKeelError(error)) {
      const status = statusOf(error);
      if (status >= 500) request.log.error({ err: error }, 'inspector request failed');
      return sendError(reply, status, error.code, error.message, error.details);
    }
    const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (statusCode >= 400 && statusCode < 500) {
      // fastify's own refusals: a body that is not JSON, too large, of another content type.
      return sendError(reply, statusCode, statusCode === 413 ? 'KEEL_ERR_BODY_TOO_LARGE' : 'KEEL_ERR_VALIDATION', error.message);
    }
    request.log.error({ err: error }, 'inspector request failed');
    return sendError(reply, 500, 'KEEL_ERR_INTERNAL', 'Internal server error; the server log has the details.');
  });
  api.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'KEEL_ERR_VALIDATION', `No inspector route ${request.method} ${request.url.split('?')[0] ?? ''}.`),
  );
  dataRoutes(api, options.deps);
};

/** Registered by buildApp (app.ts) when the API is: the page at `/inspector`, its data under `/inspector/api`. */
export const inspectorPlugin: FastifyPluginAsync<InspectorPluginOptions> = async (app, options) => {
  await app.register(inspectorAssetsPlugin);
  await app.register(apiPlugin, { ...options, prefix: INSPECTOR_API_PATH });
};
