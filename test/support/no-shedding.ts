/**
 * Load shedding off: a test machine busy with other test files can hold an event loop past the
 * thresholds, and a 503 there would say nothing about the test. load-shedding.test.ts turns it on.
 */
export const NO_SHEDDING = { OVERLOAD_MAX_IN_FLIGHT: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: '0' } as const;
