/** A wrong invocation (unknown flag, bad value): exit code 2, with a hint. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** The command ran and failed (missing database, integrity problem): exit code 1, with a hint. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(message: string, readonly hint?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
