/**
 * Which rows a report returns and in what order: `sort` (a field, largest first; rows keep
 * their group order among ties) and `limit` (the first N; totals still cover every row). Part
 * of the report spec, so the CLI, the HTTP API and the dashboard arrange rows alike.
 */
import { TallyConfigError } from "../core/errors.ts";
import type { ToolRow, UsageRow } from "./spec.ts";

/** The fields a usage report sorts by. */
export const USAGE_SORT_FIELDS = {
  runs: (r: UsageRow) => r.runs,
  cost: (r: UsageRow) => r.costUsd,
  input: (r: UsageRow) => r.inputTokens,
  output: (r: UsageRow) => r.outputTokens,
  tokens: (r: UsageRow) => r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheCreationTokens,
  failures: (r: UsageRow) => r.failures + r.errors,
  duration: (r: UsageRow) => r.meanDurationMs ?? 0,
  p95: (r: UsageRow) => r.p95DurationMs ?? 0,
} as const;
export type UsageSortField = keyof typeof USAGE_SORT_FIELDS;

/** The fields a tools report sorts by. */
export const TOOL_SORT_FIELDS = {
  calls: (r: ToolRow) => r.calls,
  errors: (r: ToolRow) => r.errors,
  "error-rate": (r: ToolRow) => r.errorRate,
  p95: (r: ToolRow) => r.p95DurationMs ?? 0,
  duration: (r: ToolRow) => r.meanDurationMs ?? 0,
  sessions: (r: ToolRow) => r.sessions,
} as const;
export type ToolSortField = keyof typeof TOOL_SORT_FIELDS;

/** Checks a spec's `sort` and `limit` before anything is read; a wrong one is the caller's mistake. */
export function checkArrangement(fields: Record<string, unknown>, sort: unknown, limit: unknown): void {
  if (sort !== undefined && (typeof sort !== "string" || !Object.hasOwn(fields, sort))) {
    throw new TallyConfigError(`cannot sort by ${JSON.stringify(sort)}: use ${Object.keys(fields).join(", ")}`);
  }
  if (limit !== undefined && !(typeof limit === "number" && Number.isSafeInteger(limit) && limit > 0)) {
    throw new TallyConfigError(`limit must be a positive whole number, not ${JSON.stringify(limit)}`);
  }
}

/** Rows sorted by `sort` (largest first, stable) and cut to `limit`. */
export function arrangeRows<R>(rows: R[], fields: Record<string, (row: R) => number>, sort: string | undefined, limit: number | undefined): R[] {
  const key = sort === undefined ? undefined : fields[sort];
  const sorted = key ? [...rows].sort((a, b) => key(b) - key(a)) : rows;
  return limit === undefined ? sorted : sorted.slice(0, limit);
}
