export * from './commands.js';
export type * from './state.js';
export { ORDER_STREAM_PREFIX, orderDecider, orderStreamId, orderStreamId as streamId } from './decider.js';
