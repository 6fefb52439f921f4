/**
 * `keel replay <stream>`: the stream folded event by event with a diff of the aggregate's state
 * after each (`--to-revision`, `--at`, `--at-position` stop earlier; `--until '<cond>'` stops where
 * a condition first holds and names that event's command and causes); `--decide '<command>'`: what
 * a command would do against the state then or now; `--redecide`: every recorded command decided
 * again by today's deciders, a regression check (exit 1 when any differs). Nothing is written.
 *
 * Also what `keel events` and `keel explain` share: flag values parsed before anything is opened
 * (a bad one is a usage error, exit 2, with its coded message), the event index, and output.
 */
import { Command } from 'commander';
import { once } from 'node:events';
import { isKeelError, type ErrorCode } from '../platform/errors.js';
import { createEventIndex } from '../projections/read-models/index.js';
import {
  decideAt,
  parseCommandText,
  parseCondition,
  parsePosition,
  parseRevision,
  parseTime,
  causesOf,
  redecide,
  replayStream,
  streamKindOf,
  type Condition,
  type EventView,
  type ReplayOptions,
} from '../replay/index.js';
import { CommandExit, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCommand, type CommandContext } from './projections-context.js';
import {
  colourFor,
  decideJson,
  decideText,
  findingText,
  finalHeading,
  indexWarning,
  pretty,
  stepJson,
  stepText,
  stopJson,
  stopText,
  summaryJson,
  summaryLine,
} from './replay-format.js';

// ---------------------------------------------------------------------------------------------
// Shared by events, replay and explain

/** Codes that mean "the value given to a flag or argument cannot be right": exit 2, not 1. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KEEL_ERR_REPLAY_BAD_REVISION',
  'KEEL_ERR_REPLAY_BAD_POSITION',
  'KEEL_ERR_REPLAY_BAD_TIME',
  'KEEL_ERR_REPLAY_BAD_CONDITION',
  'KEEL_ERR_REPLAY_BAD_COMMAND',
  // `foo-1` can never name a replayable stream: the argument is wrong, not the store's content.
  'KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND',
]);

/** A usage-coded Keel error as a usage exit (`message [code]`, exit 2); anything else unchanged. */
export const asUsage = (error: unknown): unknown =>
  isKeelError(error) && USAGE_CODES.has(error.code) ? new CommandExit(EXIT_USAGE, `${error.message} [${error.code}]`) : error;

/** Commander's own usage errors (unknown option, missing argument) exit 2 as well. */
export const usageExit = (command: Command): Command =>
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE)).showHelpAfterError('(add --help for the options)');

export const usage = (message: string): CommandExit => new CommandExit(EXIT_USAGE, message);

/**
 * Parses the flags first (a bad value exits 2 before any database is opened), then runs `work`
 * with the stores open; a usage-coded error thrown there (a revision outside the stream, a time
 * before it began) exits 2 too, every other Keel error 1, both as `message [code]` on stderr.
 */
export const runReplayCommand = async <T>(env: NodeJS.ProcessEnv, parse: () => T, work: (context: CommandContext, parsed: T) => Promise<number | void>): Promise<never> => {
  let parsed: T;
  try {
    parsed = parse();
  } catch (error) {
    const exit = asUsage(error);
    if (!(exit instanceof CommandExit)) throw error;
    process.stderr.write(`${exit.message}\n`);
    process.exit(exit.exitCode);
  }
  // `keel events … | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? EXIT_OK : EXIT_FAILURE));
  return runCommand(env, [], async (context) => {
    try {
      return await work(context, parsed);
    } catch (error) {
      throw asUsage(error);
    }
  });
};

/** Writes to stdout, waiting when the pipe is full (a long history must not pile up in memory). */
export const print = async (text: string): Promise<void> => {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
};


export const warnAboutIndex = (read: { readonly scannedPastIndex: number; readonly indexNeverRan: boolean }): void => {
  const warning = indexWarning(read);
  if (warning !== undefined) process.stderr.write(`${warning}\n`);
};

// ---------------------------------------------------------------------------------------------
// keel replay


interface ReplayFlags {
  readonly toRevision?: string;
  readonly at?: string;
  readonly atPosition?: string;
  readonly until?: string;
  readonly quiet?: boolean;
  readonly json?: boolean;
  readonly decide?: string;
  readonly atRevision?: string;
  readonly redecide?: boolean;
}

type ReplayPlan =
  | { readonly mode: 'replay'; readonly stream: string; readonly options: Pick<ReplayOptions, 'toRevision' | 'at' | 'atPosition'>; readonly until?: Condition; readonly quiet: boolean; readonly json: boolean }
  | { readonly mode: 'decide'; readonly stream: string; readonly command: unknown; readonly commandType: string; readonly atRevision?: bigint; readonly json: boolean }
  | { readonly mode: 'redecide'; readonly stream: string; readonly json: boolean };

const commandTypeOf = (text: string): string => {
  try {
    const input: unknown = JSON.parse(text);
    if (typeof input === 'object' && input !== null && 'type' in input && typeof input.type === 'string') return input.type;
  } catch {
    // parseCommandText has said what is wrong with it
  }
  return 'The command';
};

export const parseReplayFlags = (stream: string, flags: ReplayFlags): ReplayPlan => {
  streamKindOf(stream);
  const json = flags.json === true;
  const windows = (['toRevision', 'at', 'atPosition'] as const).filter((k) => flags[k] !== undefined);
  if (flags.decide !== undefined || flags.redecide === true) {
    const mode = flags.decide !== undefined ? '--decide' : '--redecide';
    if (flags.decide !== undefined && flags.redecide === true) throw usage('--decide and --redecide exclude each other: ask one question at a time.');
    const others = [...windows.map((k) => ({ toRevision: '--to-revision', at: '--at', atPosition: '--at-position' })[k]), ...(flags.until === undefined ? [] : ['--until']), ...(flags.quiet === true ? ['--quiet'] : [])];
    if (others.length > 0) throw usage(`${mode} takes no ${others.join(', ')}${flags.decide !== undefined ? ' (the state to decide against is --at-revision N, default: now)' : ''}.`);
    if (flags.redecide === true) {
      if (flags.atRevision !== undefined) throw usage('--at-revision goes with --decide; --redecide runs every recorded command against the state just before it.');
      return { mode: 'redecide', stream, json };
    }
    const text = flags.decide as string;
    const atRevision = flags.atRevision === undefined ? undefined : parseRevision(flags.atRevision, '--at-revision');
    return { mode: 'decide', stream, command: parseCommandText(stream, text), commandType: commandTypeOf(text), json, ...(atRevision === undefined ? {} : { atRevision }) };
  }
  if (flags.atRevision !== undefined) throw usage('--at-revision goes with --decide; to replay up to a revision use --to-revision N.');
  if (windows.length > 1) throw usage('Give at most one of --to-revision, --at and --at-position: each says where the replay stops.');
  const options = {
    ...(flags.toRevision === undefined ? {} : { toRevision: parseRevision(flags.toRevision, '--to-revision') }),
    ...(flags.at === undefined ? {} : { at: parseTime(flags.at, '--at') }),
    ...(flags.atPosition === undefined ? {} : { atPosition: parsePosition(flags.atPosition, '--at-position') }),
  };
  return { mode: 'replay', stream, options, quiet: flags.quiet === true, json, ...(flags.until === undefined ? {} : { until: parseCondition(flags.until) }) };
};

const runReplay = async (context: CommandContext, plan: Extract<ReplayPlan, { mode: 'replay' }>, colour: boolean): Promise<number> => {
  const steps: ReturnType<typeof stepJson>[] = [];
  const onStep: ReplayOptions['onStep'] = plan.quiet ? undefined : plan.json ? (step) => void steps.push(stepJson(step)) : (step) => print(`${stepText(step, colour)}\n`);
  const outcome = await replayStream(context.store, plan.stream, { ...plan.options, ...(plan.until === undefined ? {} : { until: plan.until }), ...(onStep === undefined ? {} : { onStep }) });
  const { stop } = outcome;
  let causes: readonly EventView[] = [];
  if (stop.reason === 'condition') {
    const found = await causesOf(context.store, createEventIndex(context.handle.db), stop.step.event);
    causes = found.causes;
    warnAboutIndex(found);
  }
  const never = plan.until !== undefined && outcome.conditionMet !== true;
  if (plan.json) {
    await print(`${JSON.stringify({ streamId: outcome.streamId, aggregate: outcome.aggregate, events: outcome.events, revision: outcome.revision.toString(), lastRevision: outcome.lastRevision.toString(), ...(plan.until === undefined ? {} : { condition: plan.until.text }), steps, final: outcome.state, stop: stopJson(outcome, causes) }, null, 2)}\n`);
  } else {
    const parts: string[] = [];
    if (stop.reason === 'condition' && plan.until !== undefined) parts.push(stopText(plan.until.text, stop, causes, colour));
    parts.push(plan.quiet ? pretty(outcome.state) : `${finalHeading(outcome)}\n${pretty(outcome.state)}`);
    await print(`${plan.quiet || outcome.events === 0 ? '' : '\n'}${parts.join('\n\n')}\n`);
  }
  if (never && plan.until !== undefined) {
    process.stderr.write(`The condition "${plan.until.text}" never held in ${outcome.streamId}: ${outcome.events} event(s) replayed, through revision ${outcome.revision}.\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
};

const runDecide = async (context: CommandContext, plan: Extract<ReplayPlan, { mode: 'decide' }>, colour: boolean): Promise<number> => {
  const outcome = await decideAt(context.store, plan.stream, plan.command, plan.atRevision === undefined ? {} : { atRevision: plan.atRevision });
  await print(plan.json ? `${JSON.stringify(decideJson(plan.commandType, outcome), null, 2)}\n` : `${decideText(plan.commandType, outcome, plan.atRevision === undefined, colour)}\n`);
  // Both a refusal and a list of events answer the question.
  return EXIT_OK;
};

const runRedecide = async (context: CommandContext, plan: Extract<ReplayPlan, { mode: 'redecide' }>, colour: boolean): Promise<number> => {
  const summary = await redecide(context.store, plan.stream, async (finding) => {
    if (plan.json || finding.verdict === 'same' || finding.verdict === 'not-recorded') return;
    await print(`${findingText(finding, colour)}\n\n`);
  });
  const failed = summary.different + summary.refusedNow + summary.invalidNow;
  await print(plan.json ? `${JSON.stringify(summaryJson(summary), null, 2)}\n` : `${summaryLine(summary)}\n`);
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
};

export const replayCommand = (env: NodeJS.ProcessEnv): Command =>
  usageExit(
    new Command('replay')
      .description(
        'fold a stream event by event and show how each changed the state (read-only); or what a command would do (--decide), or whether today\'s deciders still decide every recorded command the same (--redecide, exit 1 if not)',
      )
      .argument('<stream>', 'the stream id, e.g. order-o-17 or inventory-SKU-1')
      .option('--to-revision <n>', 'stop after this revision (inclusive)')
      .option('--at <time>', 'the state as of this ISO-8601 time, e.g. 2026-12-03T10:15:00Z')
      .option('--at-position <p>', 'the state as of this position of the log')
      .option('--until <condition>', 'stop at the first event after which the condition holds, e.g. \'available < 0\' or \'status == "cancelled"\'; exit 1 if it never does')
      .option('--quiet', 'print only the final state (and the stop of --until)')
      .option('--json', 'print one JSON document {steps, final, stop}')
      .option('--decide <command>', 'what this command (JSON {"type","data"}) would do, without appending')
      .option('--at-revision <n>', 'with --decide: against the state after this revision (default: now)')
      .option('--redecide', 'decide every recorded command again against the state just before it; exit 1 if any comes out different, refused or invalid')
      .action((stream: string, flags: ReplayFlags) =>
        runReplayCommand(env, () => parseReplayFlags(stream, flags), (context, plan) => {
          const colour = colourFor(process.stdout, env);
          if (plan.mode === 'decide') return runDecide(context, plan, colour);
          if (plan.mode === 'redecide') return runRedecide(context, plan, colour);
          return runReplay(context, plan, colour);
        }),
      ),
  );
