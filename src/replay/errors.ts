/** The coded errors of replay debugging: every one is about the question asked, nothing is written. */
import { KeelError, type ErrorCode } from '../platform/errors.js';

export const replayError = (code: ErrorCode, message: string, details: Record<string, unknown> = {}): KeelError =>
  new KeelError(code, message, details);
