/**
 * Command handling (load → decide → append, idempotency across processes, conflicts, the hot
 * stream's batched appends with no oversell) on the EventStoreDB adapter, against
 * EsdbProtocolDouble: an in-process FAKE of EventStoreDB's gRPC protocol driven by the real
 * client. The same scenarios run on PostgreSQL and PGlite in command-handler.test.ts.
 */
import { describeCommandHandling } from '../../support/command-handler-scenarios.js';
import { openWriteSide } from '../../support/write-side.js';

describeCommandHandling('the EventStoreDB adapter (protocol double, fake)', () => openWriteSide('esdb_handler', 'esdb'));
