/** The leadership keys of the projection engine (src/platform/leadership.ts elects on them). */
export const projectionLockKey = (name: string): string => `projection:${name}`;
export const rebuildLockKey = (name: string): string => `rebuild:${name}`;
