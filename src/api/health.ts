/**
 * `GET /health` (and `GET /ready`, the same plugin with other checks): 200 `{ status: 'ok', checks }` when every check says 'ok', otherwise 503
 * `{ status: 'unavailable', failing: [...names], checks }` where a failing check's value says why.
 * An encapsulated plugin: it decorates nothing outside itself.
 */
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/** Each named check resolves to 'ok' or to a short reason it is not. */
export type HealthCheck = () => Promise<Record<string, 'ok' | string>>;

export interface HealthPluginOptions {
  readonly check: HealthCheck;
  /** Default `/health`; `/ready` registers this plugin again with its own checks. */
  readonly path?: string;
}

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
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    failing: { type: 'array', items: { type: 'string' } },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, options) => {
  app.get(
    options.path ?? '/health',
    // Health is polled by orchestrators: keep it out of the info-level request log.
    { logLevel: 'warn', schema: { response: { 200: responseSchema, 503: responseSchema } } },
    async (request, reply) => {
      let checks: Record<string, string>;
      try {
        checks = await options.check();
      } catch (error) {
        request.log.error({ err: error }, 'health check threw');
        checks = { health: error instanceof Error ? error.message : String(error) };
      }
      const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
      if (failing.length === 0) return reply.code(200).send({ status: 'ok', checks });
      request.log.warn({ checks }, `${options.path ?? '/health'}: ${failing.join(', ')} failing`);
      return reply.code(503).send({ status: 'unavailable', failing, checks });
    },
  );
};
