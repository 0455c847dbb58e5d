/** The degradations report (rate-limited runs, retries, skipped queries; cache hit rates) for every store. */
import { groupedReport, type GroupedSource } from "./grouped.ts";
import type { CacheRow, CacheSeriesRow, DegradationDimension, DegradationRow, DegradationsReport, DegradationsReportSpec } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { USAGE_SOURCE } from "./usage.ts";
import type { ReportProgram } from "./sql/query.ts";

/** How each run degraded is grouped on too, then folded into `byDegradation`. */
type Dimension = DegradationDimension | "degradation";

/** Degraded runs: daily_degradations for whole days, rate_limit_events itself for the rest. */
const DEGRADATION_SOURCE: GroupedSource<Dimension, "runs" | "retries" | "skipped"> = {
  timeDimensions: { hour: "hour", day: "day" },
  rollups: [
    {
      table: "daily_degradations",
      time: { kind: "utcDay", column: "day" },
      dimensions: { repo: "repo", resource: "resource", degradation: "degradation" },
      measures: { runs: "runs", retries: "retry_attempts", skipped: "skipped_queries" },
      filterColumns: { repos: "repo" },
    },
  ],
  raw: {
    table: "rate_limit_events",
    time: { kind: "instant", column: "created_at" },
    dimensions: { repo: "repo", resource: "resource", degradation: "degradation" },
    measures: { runs: "1", retries: "retry_attempts", skipped: "skipped_queries" },
    filterColumns: { repos: "repo" },
  },
};

/** Cache lookups per cache and, when the report is grouped by time, per bucket: daily_cache_usage, else the raw rows. */
const CACHE_SOURCE: GroupedSource<"hour" | "day" | "cache", "lookups" | "hits" | "misses" | "errors"> = {
  timeDimensions: { hour: "hour", day: "day" },
  rollups: [
    {
      table: "daily_cache_usage",
      time: { kind: "utcDay", column: "day" },
      dimensions: { cache: "cache" },
      measures: { lookups: "lookups", hits: "hits", misses: "misses", errors: "errors" },
      filterColumns: { repos: "repo" },
    },
  ],
  raw: {
    table: "cache_events",
    time: { kind: "instant", column: "created_at" },
    dimensions: { cache: "cache" },
    measures: {
      lookups: "1",
      hits: "CASE WHEN outcome = 'hit' THEN 1 ELSE 0 END",
      misses: "CASE WHEN outcome = 'miss' THEN 1 ELSE 0 END",
      errors: "CASE WHEN outcome = 'error' THEN 1 ELSE 0 END",
    },
    filterColumns: { repos: "repo" },
  },
};

/** The usage tables without their durations: only the count of runs is wanted here. */
const RUN_COUNT_SOURCE: GroupedSource<string, string> = {
  ...USAGE_SOURCE,
  rollups: USAGE_SOURCE.rollups.map((t) => ({ ...t, durations: undefined })),
  hourly: USAGE_SOURCE.hourly?.map((t) => (t === undefined ? undefined : { ...t, durations: undefined })),
  byTimeAlone: USAGE_SOURCE.byTimeAlone && { ...USAGE_SOURCE.byTimeAlone, table: { ...USAGE_SOURCE.byTimeAlone.table, durations: undefined } },
  raw: { ...USAGE_SOURCE.raw, durations: undefined },
} as GroupedSource<string, string>;

const hitRate = (hits: number, misses: number) => (hits + misses > 0 ? hits / (hits + misses) : null);

/**
 * Degraded runs from the raw rate-limit rows, with the runs in range to put them in
 * proportion, and cache hit rates from the cache lookups.
 */
export function* degradationsReport(dialect: SqlDialect, spec: DegradationsReportSpec): ReportProgram<DegradationsReport> {
  const timeZone = spec.timeZone ?? "UTC";
  const grouped = yield* groupedReport(dialect, DEGRADATION_SOURCE, {
    groupBy: [...spec.groupBy, "degradation"], range: spec.range, timeZone, filters: { repos: spec.filters?.repos }, exact: spec.exact === true,
  });
  const byKey = new Map<string, DegradationRow>();
  const totals: DegradationRow = { group: {}, degradedRuns: 0, retryAttempts: 0, skippedQueries: 0, byDegradation: {} };
  for (const row of grouped.rows) {
    const group: Partial<Record<DegradationDimension, string>> = {};
    for (const d of spec.groupBy) group[d] = row.group[d] ?? "";
    const key = spec.groupBy.map((d) => group[d]).join("\u0000");
    let target = byKey.get(key);
    if (target === undefined) byKey.set(key, (target = { group, degradedRuns: 0, retryAttempts: 0, skippedQueries: 0, byDegradation: {} }));
    for (const into of [target, totals]) {
      into.degradedRuns += row.measures.runs;
      into.retryAttempts += row.measures.retries;
      into.skippedQueries += row.measures.skipped;
      const how = row.group.degradation ?? "";
      into.byDegradation[how] = (into.byDegradation[how] ?? 0) + row.measures.runs;
    }
  }

  // Runs in range from the usage rollups plus raw edges (exact, as every usage report), not a
  // count over the raw executions: that read every run of the range (1.5 s for 90 days of 10M runs).
  const runs = yield* groupedReport(dialect, RUN_COUNT_SOURCE, { groupBy: [], range: spec.range, timeZone, filters: { repos: spec.filters?.repos }, exact: false });

  // One read of the cache lookups gives both the hit rate per cache and, grouped by time, its series.
  const time = spec.groupBy.find((d): d is "hour" | "day" => d === "hour" || d === "day");
  const lookups = yield* groupedReport(dialect, CACHE_SOURCE, {
    groupBy: time === undefined ? ["cache"] : [time, "cache"], range: spec.range, timeZone, filters: { repos: spec.filters?.repos }, exact: spec.exact === true,
  });
  const perCache = new Map<string, CacheRow>();
  const cacheSeries: CacheSeriesRow[] = [];
  for (const row of lookups.rows) {
    const cache = row.group.cache ?? "";
    const { hits, misses, errors } = row.measures;
    let total = perCache.get(cache);
    if (total === undefined) perCache.set(cache, (total = { cache, hits: 0, misses: 0, errors: 0, hitRate: null }));
    total.hits += hits;
    total.misses += misses;
    total.errors += errors;
    if (time !== undefined) cacheSeries.push({ group: { [time]: row.group[time] ?? "" }, cache, hits, misses, errors, hitRate: hitRate(hits, misses) });
  }
  const caches = [...perCache.values()].sort((a, b) => (a.cache < b.cache ? -1 : a.cache > b.cache ? 1 : 0));
  for (const c of caches) c.hitRate = hitRate(c.hits, c.misses);

  // Rows came sorted by group, then degradation: folding keeps the group order.
  return { kind: "degradations", groupBy: spec.groupBy, range: spec.range, timeZone, rows: [...byKey.values()], totals, totalRuns: runs.totals.measures.runs ?? 0, caches, ...(time !== undefined ? { cacheSeries } : {}) };
}
