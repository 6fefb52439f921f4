/**
 * The contract on the EventStoreDB adapter. By default it runs against EsdbProtocolDouble, an
 * in-process FAKE of EventStoreDB's gRPC protocol driven by the real client; with EVENTSTORE_URL
 * set (e.g. `docker compose up -d eventstore`, then
 * `EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false'`) the same suite runs against that real server
 * instead. The suite's title says which one ran.
 */
import { createEsdbEventStore } from '../../src/eventstore/esdb/index.js';
import type { EsdbEventStoreOptions } from '../../src/eventstore/esdb/index.js';
import { EsdbProtocolDouble } from '../support/esdb-double/index.js';
import type { EsdbProtocolDoubleOptions } from '../support/esdb-double/index.js';
import { describeEventStoreContract } from './event-store-contract.js';
import type { ContractSubject } from './event-store-contract.js';

/** A short idle timeout, so the watchdog's checkpoints of a quiet filtered subscription come soon. */
const SETTINGS: EsdbEventStoreOptions = { idleTimeoutMs: 500, retryBaseMs: 20, retryMaxMs: 500 };

const realUrl = process.env.EVENTSTORE_URL;

const onDouble = async (options: EsdbProtocolDoubleOptions = {}): Promise<ContractSubject> => {
  const double = await EsdbProtocolDouble.start(options);
  const store = createEsdbEventStore(double.url, SETTINGS);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await double.close();
    },
  };
};

if (realUrl !== undefined && realUrl !== '') {
  const shown = realUrl.replace(/\/\/[^@/]*@/, '//***@');
  describeEventStoreContract(`EventStoreDB at ${shown}`, async () => {
    const store = createEsdbEventStore(realUrl, SETTINGS);
    return { store, cleanup: () => store.close() };
  });
} else {
  describeEventStoreContract('EventStoreDB adapter on the EventStoreDB protocol double (fake), BatchAppend', () => onDouble());
  describeEventStoreContract('EventStoreDB adapter on the EventStoreDB protocol double (fake), Append only', () =>
    onDouble({ batchAppend: false }),
  );
}
