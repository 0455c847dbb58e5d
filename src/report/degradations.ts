/** The degradations report (rate-limited runs, retries, skipped queries; cache hit rates) for every store. */
import { globCondition, groupedReport, rangeCondition, type GroupedSource } from "./grouped.ts";
import type { CacheRow, DegradationDimension, DegradationRow, DegradationsReport, DegradationsReportSpec } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { USAGE_SOURCE } from "./usage.ts";
import { ParamList, type ReportProgram } from "./sql/query.ts";

/** How each run degraded is grouped on too, then folded into `byDegradation`. */
type Dimension = DegradationDimension | "degradation";

/** One raw row per degraded run (few), so no rollups. */
const DEGRADATION_SOURCE: GroupedSource<Dimension, "runs" | "retries" | "skipped"> = {
  timeDimensions: { hour: "hour", day: "day" },
  rollups: [],
  raw: {
    table: "rate_limit_events",
    time: { kind: "instant", column: "created_at" },
    dimensions: { repo: "repo", resource: "resource", degradation: "degradation" },
    measures: { runs: "count(*)", retries: "sum(retry_attempts)", skipped: "sum(skipped_queries)" },
    filterColumns: { repos: "repo" },
  },
};

/** `WHERE` over one raw table for the report's range and repo filter. */
function rawWhere(dialect: SqlDialect, params: ParamList, spec: DegradationsReportSpec): string {
  const conditions = [rangeCondition(params, "created_at", spec.range)];
  if (spec.filters?.repos?.length) conditions.push(globCondition(dialect, params, "repo", spec.filters.repos));
  const present = conditions.filter((c) => c.length > 0);
  return present.length > 0 ? `WHERE ${present.join(" AND ")}` : "";
}

/**
 * Degraded runs from the raw rate-limit rows, with the runs in range to put them in
 * proportion, and cache hit rates from the cache lookups.
 */
export function* degradationsReport(dialect: SqlDialect, spec: DegradationsReportSpec): ReportProgram<DegradationsReport> {
  const timeZone = spec.timeZone ?? "UTC";
  const grouped = yield* groupedReport(dialect, DEGRADATION_SOURCE, {
    groupBy: [...spec.groupBy, "degradation"], range: spec.range, timeZone, filters: { repos: spec.filters?.repos }, exact: true,
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
  // count over the raw executions: that read every run of the range (1.8 s for 90 days of 10M runs).
  const runs = yield* groupedReport(dialect, USAGE_SOURCE, { groupBy: [], range: spec.range, timeZone, filters: { repos: spec.filters?.repos }, exact: false });
  const cacheParams = new ParamList(dialect);
  const cacheWhere = rawWhere(dialect, cacheParams, spec);
  const cacheRows = yield {
    sql: `SELECT cache, sum(CASE WHEN outcome = 'hit' THEN 1 ELSE 0 END) AS hits, sum(CASE WHEN outcome = 'miss' THEN 1 ELSE 0 END) AS misses,
      sum(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END) AS errors FROM cache_events ${cacheWhere} GROUP BY cache ORDER BY cache`,
    params: cacheParams.values,
  };
  const caches: CacheRow[] = cacheRows.map((r) => {
    const hits = Number(r.hits);
    const misses = Number(r.misses);
    return { cache: String(r.cache), hits, misses, errors: Number(r.errors), hitRate: hits + misses > 0 ? hits / (hits + misses) : null };
  });

  // Rows came sorted by group, then degradation: folding keeps the group order.
  return { kind: "degradations", groupBy: spec.groupBy, range: spec.range, timeZone, rows: [...byKey.values()], totals, totalRuns: runs.totals.measures.runs, caches };
}
