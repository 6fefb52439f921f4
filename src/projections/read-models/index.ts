/** Every read model Keel runs, in the order `keel projections list` shows them. */
import type { Projection } from '../projection.js';
import { catalogProjection } from './catalog/index.js';
import { dailySalesProjection } from './daily-sales/index.js';
import { eventIndexProjection } from './event-index/index.js';
import { flashSaleProjection } from './flash-sale/index.js';
import { ordersProjection } from './orders/index.js';

export const readModels: readonly Projection[] = [catalogProjection, ordersProjection, flashSaleProjection, dailySalesProjection, eventIndexProjection];

// What readers outside src/projections use: each read model's queries and views (the event index's
// reader and refsOf), and the topics.
export * from './catalog/index.js';
export * from './daily-sales/index.js';
export * from './event-index/index.js';
export * from './flash-sale/index.js';
export * from './orders/index.js';
export type { Page } from './support/pagination.js';
export { availabilityTopic, orderTopic, productTopic } from './topics.js';
export * as topics from './topics.js';
