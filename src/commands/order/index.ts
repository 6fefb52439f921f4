export * from './commands.js';
export type * from './state.js';
export { MAX_ORDER_TOTAL, ORDER_STREAM_PREFIX, orderDecider, orderStreamId, orderStreamId as streamId } from './decider.js';
