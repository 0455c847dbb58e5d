/** Bounds on what one record may hold; a record beyond them is dropped as invalid. */
export const LIMITS = {
  /** Ids, names, models, repos, event types and other short strings. */
  shortString: 1024,
  /** Attributes, once serialised to JSON. */
  attributesBytes: 64 * 1024,
  /** Token counts, byte sizes and durations. */
  maxCount: Number.MAX_SAFE_INTEGER,
  /** Cost of one run in USD. */
  maxCostUsd: 1e9,
} as const;
