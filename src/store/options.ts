/** Checks of the options and arguments every store takes, worded alike for both. */
import { TallyConfigError } from "../core/errors.ts";

/** A whole number ≥ 0, or the fallback when absent; anything else is a TallyConfigError. */
export function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new TallyConfigError(`${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}

/** The `days` of `purgeOlderThan` / `countOlderThan`: a finite number ≥ 0. */
export function checkDays(method: string, days: number): void {
  if (!Number.isFinite(days) || days < 0) throw new TallyConfigError(`${method} needs a non-negative number of days, got ${String(days)}`);
}
