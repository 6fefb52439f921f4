/** Events for the raw append workloads: the shape and metadata Keel's command handler writes. */
import { randomUUID } from 'node:crypto';
import type { EventData } from '../../src/eventstore/port.js';

export const benchEvent = (streamId: string, index: number): EventData => {
  const commandId = randomUUID();
  return {
    id: randomUUID(),
    type: index === 0 ? 'BenchOrderOpened' : 'BenchItemAdded',
    data: index === 0 ? { orderId: streamId, customerId: 'c-1' } : { orderId: streamId, sku: `sku-${index % 50}`, quantity: 1 + (index % 3), price: 10 + (index % 7) },
    metadata: { commandId, correlationId: commandId, causationId: commandId, actor: 'bench', timestamp: new Date().toISOString() },
  };
};
