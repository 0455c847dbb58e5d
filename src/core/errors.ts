/**
 * Thrown for programmer and configuration mistakes (an impossible option), never for I/O:
 * I/O failures are results, counted and logged, and never reach the host.
 */
export class TallyConfigError extends Error {
  override readonly name = "TallyConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Turns anything thrown into an Error without keeping values that might hold record contents. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === "string" ? thrown : "non-Error value thrown");
}

/** Thrown by read APIs (reports) when the store has no usable database; writes return results instead. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}
