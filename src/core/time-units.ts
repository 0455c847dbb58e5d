/** Milliseconds in an hour and in a day: defined once, imported everywhere. */
export const HOUR_MS = 3_600_000;
/** The slot of the rollup kept by time alone: every zone's day starts on one (+05:30, +05:45, +12:45). */
export const QUARTER_HOUR_MS = 15 * 60_000;
export const DAY_MS = 24 * HOUR_MS;
