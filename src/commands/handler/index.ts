/** The command handler: load → decide → append, per-stream batching, idempotency, retries. */
export { createCommandHandler } from './command-handler.js';
export type { CommandHandler, CommandHandlerOptions, HandlerStats, StreamState } from './command-handler.js';
export { defaultBackoff } from './retry.js';
export type { BackoffPolicy } from './retry.js';
export type { Aggregate, CommandContext, CommandResult, DomainEventShape, HandledCommand, HandlerDecider, StreamSnapshot } from './types.js';
