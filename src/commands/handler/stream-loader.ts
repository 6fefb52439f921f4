import type { EventStore } from '../../eventstore/port.js';
import type { Aggregate, DomainEventShape, HandledCommand } from './types.js';

/** Mutable while the handler owns it; callers outside the handler see it as a StreamSnapshot. */
export interface MutableSnapshot<S> {
  state: S;
  revision: bigint;
  position: bigint;
  commands: Map<string, HandledCommand>;
}

export const commandIdOf = (metadata: Readonly<Record<string, unknown>>): string | undefined =>
  typeof metadata.commandId === 'string' ? metadata.commandId : undefined;

/** Folds a stream from the store, remembering which command wrote which events (for idempotency). */
export const loadStream = async <C, E extends DomainEventShape, S>(
  store: EventStore,
  aggregate: Aggregate<C, E, S>,
  streamId: string,
): Promise<MutableSnapshot<S>> => {
  const { decider } = aggregate;
  const snapshot: MutableSnapshot<S> = {
    state: decider.initialState(),
    revision: -1n,
    position: 0n,
    commands: new Map(),
  };
  for await (const stored of store.readStream(streamId)) {
    snapshot.state = decider.evolve(snapshot.state, aggregate.fromStored(stored));
    snapshot.revision = stored.revision;
    snapshot.position = stored.position;
    const commandId = commandIdOf(stored.metadata);
    if (commandId === undefined) continue;
    const seen = snapshot.commands.get(commandId);
    const fingerprint = typeof stored.metadata.commandFingerprint === 'string' ? stored.metadata.commandFingerprint : undefined;
    snapshot.commands.set(
      commandId,
      seen
        ? { ...seen, count: seen.count + 1, position: stored.position }
        : { firstRevision: stored.revision, count: 1, position: stored.position, ...(fingerprint === undefined ? {} : { fingerprint }) },
    );
  }
  return snapshot;
};

