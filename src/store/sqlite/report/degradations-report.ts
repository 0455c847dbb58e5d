import type { CacheRow, DegradationDimension, DegradationRow, DegradationsReport, DegradationsReportSpec } from "../../../report/spec.ts";
import type { SqliteDriver } from "../driver.ts";
import { rangeWhere } from "./grouped-query.ts";

const DIMENSIONS: Record<DegradationDimension, string> = {
  repo: "repo",
  day: "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')",
  resource: "resource",
};

/**
 * Degraded runs from the raw rate-limit rows (one per degraded run, so few), with the runs
 * in range to put them in proportion, and cache hit rates from the cache lookups.
 */
export function degradationsReport(driver: SqliteDriver, spec: DegradationsReportSpec): DegradationsReport {
  const where = rangeWhere(spec.range, false).anyGlob("repo", spec.filters?.repos);
  const dims = spec.groupBy.map((d, i) => `${DIMENSIONS[d]} AS g${i}`);
  const groups = spec.groupBy.map((_, i) => `g${i}`);
  const rows = driver
    .prepare(`SELECT ${[...dims, "degradation", "count(*) AS runs", "sum(retry_attempts) AS retries", "sum(skipped_queries) AS skipped"].join(", ")}
      FROM rate_limit_events ${where.toSql()} GROUP BY ${[...groups, "degradation"].join(", ")}`)
    .all(...where.params);

  const byKey = new Map<string, DegradationRow>();
  const totals: DegradationRow = { group: {}, degradedRuns: 0, retryAttempts: 0, skippedQueries: 0, byDegradation: {} };
  for (const row of rows) {
    const key = groups.map((g) => String(row[g] ?? "")).join("\u0000");
    let target = byKey.get(key);
    if (!target) {
      const group: Partial<Record<DegradationDimension, string>> = {};
      spec.groupBy.forEach((d, i) => (group[d] = String(row[`g${i}`] ?? "")));
      target = { group, degradedRuns: 0, retryAttempts: 0, skippedQueries: 0, byDegradation: {} };
      byKey.set(key, target);
    }
    for (const into of [target, totals]) {
      into.degradedRuns += Number(row.runs);
      into.retryAttempts += Number(row.retries);
      into.skippedQueries += Number(row.skipped);
      const how = String(row.degradation);
      into.byDegradation[how] = (into.byDegradation[how] ?? 0) + Number(row.runs);
    }
  }

  const runsWhere = rangeWhere(spec.range, false).anyGlob("repo", spec.filters?.repos);
  const totalRuns = Number(driver.prepare(`SELECT count(*) AS n FROM executions ${runsWhere.toSql()}`).get(...runsWhere.params)?.n ?? 0);

  const cacheWhere = rangeWhere(spec.range, false).anyGlob("repo", spec.filters?.repos);
  const caches: CacheRow[] = driver
    .prepare(`SELECT cache, sum(outcome = 'hit') AS hits, sum(outcome = 'miss') AS misses, sum(outcome = 'error') AS errors
      FROM cache_events ${cacheWhere.toSql()} GROUP BY cache ORDER BY cache`)
    .all(...cacheWhere.params)
    .map((r) => {
      const hits = Number(r.hits);
      const misses = Number(r.misses);
      return { cache: String(r.cache), hits, misses, errors: Number(r.errors), hitRate: hits + misses > 0 ? hits / (hits + misses) : null };
    });

  const sorted = [...byKey.values()].sort((a, b) => {
    for (const d of spec.groupBy) {
      const order = (a.group[d] ?? "").localeCompare(b.group[d] ?? "");
      if (order !== 0) return order;
    }
    return 0;
  });
  return { kind: "degradations", groupBy: spec.groupBy, range: spec.range, rows: sorted, totals, totalRuns, caches };
}
