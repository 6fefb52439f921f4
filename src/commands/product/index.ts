export * from './commands.js';
export type * from './state.js';
export {
  PRODUCT_STREAM_PREFIX,
  productDecider,
  productStreamId,
  productStreamId as streamId,
} from './decider.js';
