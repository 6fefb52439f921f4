/** The order-fulfilment process manager (see runner.ts and reactions.ts). */
export { startFulfilment } from './runner.js';
export type { FulfilmentLogger, FulfilmentOptions, FulfilmentRunner } from './runner.js';
