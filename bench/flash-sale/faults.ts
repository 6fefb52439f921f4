/**
 * The runs of the flash sale and the faults each injects, at times counted from the opening. Each
 * fault run has a standby projector; the run `all` injects every fault, staggered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from './cluster.js';
import { restartPostgres, startRedis, stopRedis } from './cluster.js';

export const RUN_NAMES = ['fault-free', 'projector', 'api', 'redis', 'postgres', 'payment', 'clients', 'all'] as const;
export type RunName = (typeof RUN_NAMES)[number];

export interface FaultMark {
  readonly label: string;
  /** Seconds since the opening. */
  readonly from: number;
  readonly to?: number;
}

export interface FaultContext {
  readonly cluster: Cluster;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly openingAt: number;
  /** The provider's normal behaviour, restored after the slow stretch. */
  readonly payment: { readonly latencyMs: number; readonly failureRate: number };
  readonly log: (line: string) => void;
}

interface Fault {
  readonly at: number;
  readonly label: string;
  /** Runs the fault; resolves with the second it ended (for an area), or undefined (a moment). */
  readonly inject: (context: FaultContext, since: () => number) => Promise<number | undefined>;
}

const controlProvider = async (context: FaultContext, behaviour: { latencyMs: number; failureRate: number }): Promise<void> => {
  const response = await fetch(`${context.cluster.provider.url ?? ''}/control`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(behaviour) });
  if (!response.ok) throw new Error(`the fake provider refused its control: HTTP ${response.status}`);
};

const killProjector = (at: number): Fault => ({
  at,
  label: 'projector SIGKILL',
  inject: async ({ cluster, log }, since) => {
    const leader = cluster.projectors[0];
    if (leader === undefined) throw new Error('no projector to kill');
    await leader.kill('SIGKILL');
    log(`projector 1 SIGKILLed at ${since().toFixed(1)} s (the standby takes over)`);
    await sleep(3_000);
    await leader.restart();
    log(`projector 1 restarted at ${since().toFixed(1)} s`);
    return since();
  },
});

const killApi = (at: number): Fault => ({
  at,
  label: 'API 1 SIGKILL',
  inject: async ({ cluster, log }, since) => {
    const api = cluster.apis[0];
    if (api === undefined) throw new Error('no API process to kill');
    await api.kill('SIGKILL');
    log(`API 1 SIGKILLed at ${since().toFixed(1)} s (its buyers retry on API 2)`);
    return undefined;
  },
});

const stopRedisFor = (at: number, seconds: number): Fault => ({
  at,
  label: `Redis stopped ${seconds} s`,
  inject: async ({ redisUrl, log }, since) => {
    stopRedis(redisUrl);
    log(`Redis stopped at ${since().toFixed(1)} s`);
    await sleep(seconds * 1_000);
    await startRedis(redisUrl);
    log(`Redis started again at ${since().toFixed(1)} s`);
    return since();
  },
});

const restartPg = (at: number): Fault => ({
  at,
  label: 'PostgreSQL restart',
  inject: async ({ databaseUrl, log }, since) => {
    const from = since();
    await restartPostgres(databaseUrl);
    log(`PostgreSQL restarted (fast shutdown, start) from ${from.toFixed(1)} s to ${since().toFixed(1)} s`);
    return since();
  },
});

const slowPayments = (at: number, seconds: number): Fault => ({
  at,
  label: 'payments 2 s, 30% declined',
  inject: async (context, since) => {
    await controlProvider(context, { latencyMs: 2_000, failureRate: 0.3 });
    context.log(`payment provider slow (2 s) and declining 30% from ${since().toFixed(1)} s`);
    await sleep(seconds * 1_000);
    await controlProvider(context, { ...context.payment });
    context.log(`payment provider back to normal at ${since().toFixed(1)} s`);
    return since();
  },
});

export interface RunPlan {
  readonly name: RunName;
  readonly title: string;
  readonly projectors: number;
  readonly duplicatePercent: number;
  readonly giveUpPercent: number;
  readonly faults: readonly Fault[];
}

export const planOf = (name: RunName): RunPlan => {
  const plan = (title: string, faults: readonly Fault[], clients = false): RunPlan => ({
    name,
    title,
    projectors: name === 'fault-free' ? 1 : 2,
    duplicatePercent: clients ? 5 : 0,
    giveUpPercent: clients ? 2 : 0,
    faults,
  });
  switch (name) {
    case 'fault-free':
      return plan('no fault', []);
    case 'projector':
      return plan('the projector SIGKILLed mid-sale, restarted 3 s later', [killProjector(1)]);
    case 'api':
      return plan('one API process SIGKILLed mid-sale', [killApi(1)]);
    case 'redis':
      return plan('Redis stopped for 10 s mid-sale', [stopRedisFor(1, 10)]);
    case 'postgres':
      return plan('PostgreSQL restarted mid-sale (fast shutdown, then start)', [restartPg(1.5)]);
    case 'payment':
      return plan('the payment provider slow (2 s) and declining 30% for 5 s', [slowPayments(0.5, 5)]);
    case 'clients':
      return plan('5% of buyers re-send their checkout, 2% give up and cancel', [], true);
    case 'all':
      return plan('every fault, staggered', [slowPayments(0.3, 5), killApi(0.8), killProjector(1.2), stopRedisFor(1.6, 10), restartPg(2.5)], true);
  }
};

/** Injects the plan's faults at their times; resolves with their marks once all are over. */
export const injectFaults = async (plan: RunPlan, context: FaultContext): Promise<FaultMark[]> => {
  const since = (): number => (Date.now() - context.openingAt) / 1_000;
  return Promise.all(
    plan.faults.map(async (fault) => {
      const wait = context.openingAt + fault.at * 1_000 - Date.now();
      if (wait > 0) await sleep(wait);
      const from = since();
      const to = await fault.inject(context, since);
      return { label: fault.label, from, ...(to === undefined ? {} : { to }) };
    }),
  );
};
