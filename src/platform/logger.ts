/**
 * The process logger: pino writing one JSON object per line (no pretty printer is installed;
 * pipe through `jq` to read). Fastify is given this instance, so request logs share it; each line a
 * request logs carries `requestId` and `correlationId` (app.ts), a reaction's its event's
 * `correlationId`; with tracing on, the lines of a sampled request also carry `traceId` and
 * `spanId` (its logger is bound to its span: api/graphql/request-tracing.ts).
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

export type LoggerConfig = Pick<Config, 'logLevel' | 'nodeEnv'>;

/** `destination` defaults to stdout; tests pass a stream to capture lines. */
export const createLogger = (config: LoggerConfig, destination?: DestinationStream): Logger => {
  const options = {
    level: config.logLevel,
    base: { service: 'keel', env: config.nodeEnv, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
};
