/** Every read model Keel runs, in the order `keel projections list` shows them. */
import type { Projection } from '../projection.js';
import { catalogProjection } from './catalog/index.js';
import { dailySalesProjection } from './daily-sales/index.js';
import { flashSaleProjection } from './flash-sale/index.js';
import { ordersProjection } from './orders/index.js';

export const readModels: readonly Projection[] = [catalogProjection, ordersProjection, flashSaleProjection, dailySalesProjection];

export { catalogProjection, dailySalesProjection, flashSaleProjection, ordersProjection };
export * as topics from './topics.js';
