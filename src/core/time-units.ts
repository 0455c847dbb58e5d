/** Milliseconds in an hour and in a day: defined once, imported everywhere. */
export const HOUR_MS = 3_600_000;
/** The slot of the rollup kept by time alone: every zone's day starts on one (+05:30, +05:45, +12:45). */
export const QUARTER_HOUR_MS = 15 * 60_000;
export const DAY_MS = 24 * HOUR_MS;

/** The start of the `size`-long slot (an hour, a day: any length that divides time from 1970) holding `ms`; before 1970 too. */
export const floorTo = (ms: number, size: number) => Math.floor(ms / size) * size;
/** The first slot start at or after `ms`. */
export const ceilTo = (ms: number, size: number) => Math.ceil(ms / size) * size;
