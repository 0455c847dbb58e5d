/** OTLP times are unsigned 64-bit nanoseconds since the epoch; Tally's are milliseconds. */

const NANOS_PER_MS = 1_000_000n;

/** Epoch milliseconds of an OTLP time (floored); bigint arithmetic, so no precision is lost first. */
export function epochMs(unixNano: bigint): number {
  return Number(unixNano / NANOS_PER_MS);
}

/** Whole milliseconds between two OTLP times (rounded), or undefined when `end` precedes `start`. */
export function elapsedMs(startUnixNano: bigint, endUnixNano: bigint): number | undefined {
  if (endUnixNano < startUnixNano) return undefined;
  return Number((endUnixNano - startUnixNano + NANOS_PER_MS / 2n) / NANOS_PER_MS);
}
