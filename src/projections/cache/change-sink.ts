/**
 * The `ChangeSink` the engine calls after each commit: hot topics (product detail, availability)
 * are written to the cache stamped with the change's position (an older stamp never replaces a
 * newer one), then every change is published as a notice. Entries go first, so a subscriber that
 * reads on a notice finds the new entry. Never throws (the cache does not).
 */
import type { ChangeSink, ProjectionChange } from '../projection.js';
import { isHotTopic } from '../read-models/topics.js';
import type { ReadCache } from './read-cache.js';

export interface CacheChangeSinkOptions {
  /** Which topics get a cache entry (default: product:… and availability:…). */
  readonly isHot?: (topic: string) => boolean;
}

export const createCacheChangeSink = (cache: ReadCache, options: CacheChangeSinkOptions = {}): ChangeSink => {
  const isHot = options.isHot ?? isHotTopic;
  return {
    async publish(changes: readonly ProjectionChange[]): Promise<void> {
      const hot = changes.filter((change) => isHot(change.topic));
      await Promise.all(hot.map((change) => cache.set(change.topic, { position: change.position, payload: change.payload })));
      // Issued in order on one connection, so each topic's notices arrive in position order.
      await Promise.all(changes.map((change) => cache.publish(change)));
    },
  };
};
