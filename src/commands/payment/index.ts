export * from './commands.js';
export type * from './state.js';
export {
  PAYMENT_STREAM_PREFIX,
  paymentDecider,
  paymentStreamId,
  paymentStreamId as streamId,
} from './decider.js';
export type * from './provider.js';
export { FakePaymentProvider, IdempotencyKeyReusedError } from './fake-provider.js';
export type { FakePaymentProviderOptions, FakePaymentProviderSettings, LatencyMs } from './fake-provider.js';
export { startFakeProviderServer } from './fake-provider-server.js';
export type { FakeProviderServer, FakeProviderServerOptions, FakeProviderStats } from './fake-provider-server.js';
export { DEFAULT_PAYMENT_PROVIDER_TIMEOUT_MS, HttpPaymentProvider } from './http-provider.js';
export type { HttpPaymentProviderOptions } from './http-provider.js';
export { AUTHORIZATIONS_PATH, IDEMPOTENCY_KEY_HEADER, authorizationAnswerSchema, authorizationBodySchema } from './http-protocol.js';
export type { AuthorizationAnswer, AuthorizationBody } from './http-protocol.js';
