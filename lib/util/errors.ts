/**
 * Errors meant for the person at the keyboard: the message names the problem and the fix, and the
 * command line prints it on one line without a stack trace.
 */
export class UserError extends Error {
  /** Process exit code the command line uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** An invalid option or argument (exit code 2, as for usage errors). */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** Data that is missing, truncated or not in the CIFAR-10 binary layout (exit code 1). */
export class DataError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'DataError';
  }
}

/** A run interrupted by the user (Ctrl-C) after its state was saved (exit code 130). */
export class InterruptedError extends UserError {
  constructor(message: string) {
    super(message, 130);
    this.name = 'InterruptedError';
  }
}
