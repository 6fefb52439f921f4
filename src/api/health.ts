/**
 * `GET /health` (and `GET /ready`, the same plugin with other checks). The public sees a status
 * only: 200 `{ status: 'ok' }`, or 503 `{ status: 'unavailable', failing: [...names] }`. Why a check
 * fails (a driver's error names hosts and ports) is for admins and the log: a request that
 * `showsReasons` (an admin's bearer token, app.ts) also gets `checks`, each 'ok' or its reason, and
 * the reasons are logged at warn once per change of the failing set (info when all are ok again).
 *
 * Probes are cheap: one evaluation of the checks answers every request for `cacheMs` (1 s) after it
 * completes, and concurrent requests share the one in flight, so a flood of probes costs the
 * database one query a second at most.
 * An encapsulated plugin: it decorates nothing outside itself.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/** Each named check resolves to 'ok' or to a short reason it is not. */
export type HealthCheck = () => Promise<Record<string, 'ok' | string>>;

export interface HealthPluginOptions {
  readonly check: HealthCheck;
  /** Default `/health`; `/ready` registers this plugin again with its own checks. */
  readonly path?: string;
  /** Whether the request may see each check's reason (app.ts: an admin's bearer token). Default: never. */
  readonly showsReasons?: (request: FastifyRequest) => boolean;
  /** How long one evaluation answers every request after it completes (default 1000 ms). */
  readonly cacheMs?: number;
}

/** How long one evaluation of the checks answers every probe. */
export const HEALTH_CACHE_MS = 1000;

export type Probe = () => Promise<unknown>;

/**
 * Runs named probes in parallel, each bounded by `timeoutMs`: a probe that resolves is 'ok',
 * one that rejects or times out reports its message.
 */
export const probeAll = async (probes: Record<string, Probe>, timeoutMs = 2000): Promise<Record<string, string>> => {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]): Promise<[string, string]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), timeout]);
        return [name, 'ok'];
      } catch (error) {
        return [name, error instanceof Error ? error.message || error.name : String(error)];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
};

/**
 * GET /ready's check of the read replica (DATABASE_READ_URL): it answers, and when it is a hot
 * standby with WAL received but not yet replayed, its last replayed commit is at most
 * `maxLagSeconds` old (a replica that stopped replaying would make every consistency token time
 * out). A replica that has received nothing new is not behind, however old its last commit.
 */
export const readReplicaProbe =
  (db: Kysely<unknown>, maxLagSeconds: number): Probe =>
  async () => {
    const { rows } = await sql<{ lag: number | null }>`select case
        when not pg_is_in_recovery() then 0
        when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn() then 0
        else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8
      end as lag`.execute(db);
    const lag = rows[0]?.lag ?? 0;
    if (lag > maxLagSeconds) throw new Error(`replaying ${Math.round(lag)} s behind its primary (limit ${maxLagSeconds} s)`);
  };

const responseSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    failing: { type: 'array', items: { type: 'string' } },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

interface Evaluation {
  readonly checks: Readonly<Record<string, string>>;
  readonly failing: readonly string[];
}

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, options) => {
  const path = options.path ?? '/health';
  const cacheMs = options.cacheMs ?? HEALTH_CACHE_MS;
  const showsReasons = options.showsReasons ?? (() => false);

  /** The failing set last logged ('' = all ok), so a state is logged once, not once per probe. */
  let logged = '';
  const evaluate = async (): Promise<Evaluation> => {
    let checks: Record<string, string>;
    try {
      checks = await options.check();
    } catch (error) {
      app.log.error({ err: error }, `${path}: the health check threw`);
      checks = { health: error instanceof Error ? error.message : String(error) };
    }
    const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
    const state = failing.join(',');
    if (state !== logged) {
      if (failing.length > 0) app.log.warn({ checks }, `${path}: ${failing.join(', ')} failing`);
      else app.log.info({ checks }, `${path}: every check is ok again`);
      logged = state;
    }
    return { checks, failing };
  };

  // lru-cache's fetch is the single flight: the evaluation in progress, or the last one while it
  // is fresh (`cacheMs` after it settled), answers every probe.
  const cache = new LRUCache<'checks', Evaluation>({ max: 1, ttl: cacheMs, fetchMethod: evaluate });
  const latest = async (): Promise<Evaluation> => (await cache.fetch('checks')) ?? evaluate();

  app.get(
    path,
    // Health is polled by orchestrators: keep it out of the info-level request log.
    { logLevel: 'warn', schema: { response: { 200: responseSchema, 503: responseSchema } } },
    async (request, reply) => {
      const { checks, failing } = await latest();
      const detail = showsReasons(request) ? { checks } : {};
      if (failing.length === 0) return reply.code(200).send({ status: 'ok', ...detail });
      return reply.code(503).send({ status: 'unavailable', failing, ...detail });
    },
  );
};
