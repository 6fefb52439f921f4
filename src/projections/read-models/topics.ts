/**
 * Topics of the changes the read models announce (cache keys of hot entries, pub/sub notices).
 * Subscribers may use Redis-style patterns: `order:*`, `availability:*`.
 */
export const productTopic = (productId: string): string => `product:${productId}`;
export const availabilityTopic = (sku: string): string => `availability:${sku}`;
/** Every change of an order (status, payment, a line's stock); the payload says whether the status changed. */
export const orderTopic = (orderId: string): string => `order:${orderId}`;
export const flashSaleTopic = (sku: string): string => `flash-sale:${sku}`;
export const dailySalesTopic = (productId: string): string => `daily-sales:${productId}`;

/** Topics whose latest payload is cached (hot reads); the others are only published. */
export const HOT_TOPIC_PREFIXES = ['product:', 'availability:'] as const;
export const isHotTopic = (topic: string): boolean => HOT_TOPIC_PREFIXES.some((prefix) => topic.startsWith(prefix));
