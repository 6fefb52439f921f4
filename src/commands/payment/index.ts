export * from './commands.js';
export type * from './state.js';
export {
  PAYMENT_STREAM_PREFIX,
  paymentDecider,
  paymentStreamId,
  paymentStreamId as streamId,
} from './decider.js';
export type * from './provider.js';
export { FakePaymentProvider } from './fake-provider.js';
export type { FakePaymentProviderOptions, LatencyMs } from './fake-provider.js';
