/** Bounds on what one record may hold; a record beyond them is dropped as invalid. */
export const LIMITS = {
  /** Ids, names, models, repos, event types and other short strings, in UTF-16 units (JavaScript's `length`). */
  shortString: 1024,
  /** Attributes, once serialised to JSON, in UTF-8 bytes (what is stored). */
  attributesBytes: 64 * 1024,
  /** Token counts, byte sizes and durations. */
  maxCount: Number.MAX_SAFE_INTEGER,
  /** Cost of one run in USD. */
  maxCostUsd: 1e9,
} as const;
