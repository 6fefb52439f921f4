/**
 * The overload run's own checks: at twice the knee Keel sheds with coded errors instead of
 * collapsing (no unanswered request, no uncoded failure), the accepted requests' p99 and the
 * processes' memory stay bounded, and at half the sustainable rate it serves again without a restart.
 */
import type { Check } from './invariants.js';
import type { RampPhase, RampResult } from './protocol.js';

/** The accepted requests' p99 at twice the knee may pass the knee's limit, within this bound. */
export const OVERLOAD_P99_BOUND_MS = 1_000;
/** Peak RSS of an API process over the whole run. */
export const RSS_BOUND_MIB = 512;
export const P99_LIMIT_MS = 500;

const failedCount = (phase: RampPhase): number => Object.values(phase.failed).reduce((a, b) => a + b, 0);

export const overloadChecks = (result: RampResult, peakRssKiB: Readonly<Record<string, number>>): Check[] => {
  const { overload, recovery } = result;
  const uncoded = Object.entries(overload.failed).filter(([code]) => !code.startsWith('KEEL_ERR_') && code !== 'RATE_LIMITED');
  const apis = Object.entries(peakRssKiB).filter(([name]) => name.startsWith('api'));
  const heavy = apis.filter(([, kib]) => kib / 1024 > RSS_BOUND_MIB);
  return [
    {
      name: 'the knee is found',
      pass: result.kneeRate !== null,
      detail: result.kneeRate === null ? `no rate up to ${result.sustainableRate}/s passed p99 ${P99_LIMIT_MS} ms or failed a request: add higher rates` : `p99 passed ${P99_LIMIT_MS} ms or a request failed at ${result.kneeRate} checkouts/s; ${result.sustainableRate}/s held`,
    },
    {
      name: 'at twice the knee, load is shed with coded errors, nothing unanswered',
      pass: uncoded.length === 0,
      detail: uncoded.length === 0 ? `${overload.accepted} accepted, ${failedCount(overload)} shed (${JSON.stringify(overload.failed)})` : `uncoded failures: ${JSON.stringify(Object.fromEntries(uncoded))}`,
    },
    {
      name: `at twice the knee, the accepted requests' p99 stays under ${OVERLOAD_P99_BOUND_MS} ms`,
      pass: overload.p99Ms !== null && overload.p99Ms <= OVERLOAD_P99_BOUND_MS,
      detail: `p99 ${overload.p99Ms ?? '-'} ms of ${overload.accepted} accepted (${overload.acceptedPerSecond}/s)`,
    },
    {
      name: `memory stays bounded (API processes under ${RSS_BOUND_MIB} MiB)`,
      pass: apis.length > 0 && heavy.length === 0,
      detail: apis.map(([name, kib]) => `${name} ${Math.round(kib / 1024)} MiB`).join(', '),
    },
    {
      name: 'it recovers without a restart',
      pass: failedCount(recovery) === 0 && recovery.p99Ms !== null && recovery.p99Ms <= P99_LIMIT_MS,
      detail: `${recovery.rate}/s after the overload: ${recovery.accepted}/${recovery.sent} accepted, p99 ${recovery.p99Ms ?? '-'} ms`,
    },
  ];
};
