/**
 * Test-only entry: a real projector process running the engine with the TEST projection (not a
 * production read model, and not reachable from `keel`). Reads DATABASE_URL; SIGTERM stops it
 * gracefully (the batch in progress commits). Logs JSON lines like the server.
 */
import { openEventStore } from '../../src/eventstore/open.js';
import { openDatabase } from '../../src/platform/database.js';
import { createLogger } from '../../src/platform/logger.js';
import { startProjections } from '../../src/projections/engine/index.js';
import { testProjection } from './projection-test-model.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const logger = createLogger({ logLevel: 'info', nodeEnv: 'test' });
const handle = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 4 });
const store = await openEventStore(handle);
const projections = await startProjections({
  handle,
  store,
  projections: [testProjection()],
  logger,
  tuning: { standbyRetryMs: 250, retryBaseMs: 20 },
  onBatch: (batch) => {
    if (batch.events > 0) logger.info({ batch: { events: batch.events, position: batch.position.toString(), live: batch.live } }, 'batch');
  },
});
logger.info({ ready: true }, 'projector ready');
const stop = (): void => {
  projections
    .stop()
    .then(() => store.close())
    .then(() => handle.close())
    .then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
