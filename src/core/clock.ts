/** An opaque timer handle, as returned by `setTimeout`. */
export type TimerHandle = unknown;

/**
 * Time and timers, injectable so tests drive time themselves instead of sleeping.
 * Timers created through a clock must not keep the process alive (`unref`).
 */
export interface Clock {
  /** Wall-clock time in epoch milliseconds (may have a fractional part). */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

function unref(handle: TimerHandle): TimerHandle {
  (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}

/**
 * Wall time read once, plus a monotonic delta (as OpenTelemetry's anchored clock does), so
 * that a wall-clock step backwards never makes a duration or an ordering go negative.
 */
export function createSystemClock(): Clock {
  const anchor = Date.now() - performance.now();
  return {
    now: () => anchor + performance.now(),
    setTimeout: (callback, delayMs) => unref(globalThis.setTimeout(callback, delayMs)),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  };
}
