/**
 * The logging surface Tally needs: a subset of pino's, so a pino logger (or `console`-like
 * adapter) can be passed as is. Tally never logs record contents: prompts and secrets live there.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};

/** Calls the logger without letting a broken logger reach the host. */
export function safeLog(logger: Logger, level: "error" | "warn" | "info" | "debug", obj: object, msg: string): void {
  try {
    logger[level]?.(obj, msg);
  } catch {
    // A throwing logger must not break the caller either; there is nowhere left to report it.
  }
}
