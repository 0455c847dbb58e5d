import type { ToolSortField, UsageSortField } from "./arrange.ts";

/** What a report may be grouped by; every one of them is a rollup dimension. */
export const USAGE_DIMENSIONS = ["hour", "day", "week", "month", "repo", "model", "provider", "event", "conclusion"] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export const TOOL_DIMENSIONS = ["tool", "server", "hour", "day"] as const;
export type ToolDimension = (typeof TOOL_DIMENSIONS)[number];

export const DEGRADATION_DIMENSIONS = ["repo", "hour", "day", "resource"] as const;
export type DegradationDimension = (typeof DEGRADATION_DIMENSIONS)[number];

/** A half-open interval [since, until) of epoch ms; either end may be open. */
export interface TimeRange {
  since?: number;
  until?: number;
}

/** What every report spec has besides its grouping and filters. */
export interface ReportWindow {
  range: TimeRange;
  /**
   * IANA zone where hours, days, weeks (Monday) and months begin for grouping; ranges are
   * instants and do not depend on it. @default "UTC"
   */
  timeZone?: string;
}

/** Filters; each list is OR-ed glob patterns (`*`, `?`, `[...]`), values always bound. */
export interface UsageFilters {
  repos?: string[];
  models?: string[];
  events?: string[];
  /** Conclusions (success, failure, error, …); read from daily_usage or raw rows. */
  conclusions?: string[];
}

export interface UsageReportSpec extends ReportWindow {
  kind: "usage";
  groupBy: UsageDimension[];
  filters?: UsageFilters;
  /** Order rows by this field, largest first (see `USAGE_SORT_FIELDS`). @default group order */
  sort?: UsageSortField;
  /** Return at most this many rows; totals still cover all. */
  limit?: number;
  /** Read raw rows even when the rollups could answer (exact percentiles). @default false */
  exact?: boolean;
  /**
   * Compute p50/p95 (false: they are null, and the duration sketches, most of a rollup row,
   * are not read: for views that show sums only). @default true
   */
  percentiles?: boolean;
}

/** How long a row's runs or calls took, in ms; null when there is nothing to measure. */
export interface DurationStats {
  /** Mean: exact, whether the rollups or the raw rows answered. */
  meanDurationMs: number | null;
  /** Median: exact from raw rows; within ±4.8 % when part of the range came from the rollups' duration buckets. */
  p50DurationMs: number | null;
  /** 95th percentile: as the median. */
  p95DurationMs: number | null;
}

export interface UsageRow extends DurationStats {
  group: Partial<Record<UsageDimension, string>>;
  runs: number;
  successes: number;
  failures: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  unpricedRuns: number;
}

export interface UsageReport {
  kind: "usage";
  groupBy: UsageDimension[];
  range: TimeRange;
  timeZone: string;
  /**
   * `rollups` when whole days came from the daily sums (percentiles then ±4.8 %), `raw` when
   * only raw rows were read; counts and sums are exact either way.
   */
  source: "rollups" | "raw";
  rows: UsageRow[];
  totals: UsageRow;
  /** Models that had runs Tally could not price, in this report's range. */
  unpricedModels: string[];
  /**
   * ISO time of the last purge of raw rows when part of the range could only be read from raw
   * rows older than it (the partial days of a range that reaches past retention): those parts
   * count less than happened. null when every part of the range is complete.
   */
  rawRowsPurgedBefore: string | null;
}

export interface ToolsReportSpec extends ReportWindow {
  kind: "tools";
  groupBy: ToolDimension[];
  /** Order rows by this field, largest first (see `TOOL_SORT_FIELDS`). @default group order */
  sort?: ToolSortField;
  /** Return at most this many rows; totals still cover all. */
  limit?: number;
  /** Read raw rows even when the rollups could answer (exact percentiles). @default false */
  exact?: boolean;
  /** Compute p50/p95 (false: they are null and the duration sketches are not read). @default true */
  percentiles?: boolean;
  filters?: { tools?: string[]; servers?: string[] };
}

export interface ToolRow extends DurationStats {
  group: Partial<Record<ToolDimension, string>>;
  calls: number;
  errors: number;
  /** Errors over calls, 0..1. */
  errorRate: number;
  cancelled: number;
  /** Distinct sessions that called it (raw rows in range). */
  sessions: number;
}

export interface ToolsReport {
  kind: "tools";
  groupBy: ToolDimension[];
  range: TimeRange;
  timeZone: string;
  rows: ToolRow[];
  totals: ToolRow;
  /** As in the usage report: set when part of the range lies in purged raw rows. */
  rawRowsPurgedBefore: string | null;
}

export interface DegradationsReportSpec extends ReportWindow {
  kind: "degradations";
  groupBy: DegradationDimension[];
  filters?: { repos?: string[] };
  /** Read raw rows only, not the daily rollups (the counts are the same either way). @default false */
  exact?: boolean;
}

export interface DegradationRow {
  group: Partial<Record<DegradationDimension, string>>;
  degradedRuns: number;
  retryAttempts: number;
  skippedQueries: number;
  /** Degraded runs by how they degraded, e.g. { partial: 3, skipped: 1 }. */
  byDegradation: Record<string, number>;
}

export interface CacheRow {
  cache: string;
  hits: number;
  misses: number;
  errors: number;
  /** Hits over hits + misses, 0..1; null without lookups. */
  hitRate: number | null;
}

/** A cache's lookups in one time bucket (the report grouped by hour or day). */
export interface CacheSeriesRow {
  group: Partial<Record<"hour" | "day", string>>;
  cache: string;
  hits: number;
  misses: number;
  errors: number;
  /** Hits over hits + misses, 0..1; null without lookups. */
  hitRate: number | null;
}

export interface DegradationsReport {
  kind: "degradations";
  groupBy: DegradationDimension[];
  range: TimeRange;
  timeZone: string;
  rows: DegradationRow[];
  totals: DegradationRow;
  /** Runs in range, to put degraded runs in proportion. */
  totalRuns: number;
  caches: CacheRow[];
  /** Per time bucket and cache, when grouped by hour or day (bucket order, then cache). */
  cacheSeries?: CacheSeriesRow[];
}

export type ReportSpec = UsageReportSpec | ToolsReportSpec | DegradationsReportSpec;
export type Report<S extends ReportSpec> = S extends UsageReportSpec
  ? UsageReport
  : S extends ToolsReportSpec
    ? ToolsReport
    : DegradationsReport;
