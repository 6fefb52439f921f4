/** Helpers for cache tests: a logger that records lines, and a notice collector. */
import type { CacheLogger, Notice, ReadCache } from '../../src/projections/cache/read-cache.js';

export interface RecordingLogger extends CacheLogger {
  readonly lines: { readonly level: 'info' | 'warn'; readonly msg: string }[];
}

export const recordingLogger = (): RecordingLogger => {
  const lines: { level: 'info' | 'warn'; msg: string }[] = [];
  return {
    lines,
    info: (_obj, msg) => void lines.push({ level: 'info', msg: msg ?? '' }),
    warn: (_obj, msg) => void lines.push({ level: 'warn', msg: msg ?? '' }),
  };
};

/** Subscribes to `pattern` and keeps every notice; `until(topic)` waits (bounded) for one to arrive. */
export const collectNotices = async (cache: ReadCache, pattern: string) => {
  const seen: Notice[] = [];
  const waiters: { topic: string; resolve: () => void }[] = [];
  const unsubscribe = await cache.subscribe(pattern, (notice) => {
    seen.push(notice);
    for (const w of waiters.filter((x) => x.topic === notice.topic)) w.resolve();
  });
  return {
    seen,
    unsubscribe,
    /** Resolves once a notice of `topic` has arrived; rejects after `ms` (a hang guard, not a timing check). */
    until: (topic: string, ms = 10_000): Promise<void> => {
      if (seen.some((n) => n.topic === topic)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notice ${topic} on ${pattern}`)), ms);
        waiters.push({ topic, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
};
