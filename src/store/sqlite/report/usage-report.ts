import type { UsageDimension, UsageReport, UsageReportSpec, UsageRow } from "../../../report/spec.ts";
import type { SqliteDriver } from "../driver.ts";
import { rollupsCanAnswer, runGroupedQuery, type GroupedRow, type GroupedSource } from "./grouped-query.ts";
import { Where } from "./where.ts";
import { utcDay } from "../utc-day.ts";

const RAW_DAY = "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')";

type Measure = "runs" | "successes" | "failures" | "errors" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd" | "unpricedRuns" | "durationMs";

const conclusionCount = (word: string): { rollup: string; raw: string } => ({
  rollup: `sum(CASE WHEN conclusion = '${word}' THEN runs ELSE 0 END)`,
  raw: `sum(CASE WHEN conclusion = '${word}' THEN 1 ELSE 0 END)`,
});

/** Executions: daily_usage + daily_duration_buckets, or executions itself. */
export const USAGE_SOURCE: GroupedSource<UsageDimension, Measure> = {
  rollupTable: "daily_usage",
  bucketTable: "daily_duration_buckets",
  bucketCount: "runs",
  rawTable: "executions",
  dimensions: {
    day: { rollup: "day", raw: RAW_DAY },
    // Weeks start on Monday (ISO); the label is that Monday's date.
    week: { rollup: "date(day, '-6 days', 'weekday 1')", raw: `date(${RAW_DAY}, '-6 days', 'weekday 1')` },
    month: { rollup: "substr(day, 1, 7)", raw: "strftime('%Y-%m', created_at / 1000, 'unixepoch')" },
    repo: { rollup: "repo", raw: "repo" },
    model: { rollup: "model", raw: "model" },
    provider: { rollup: "provider", raw: "provider" },
    event: { rollup: "event_type", raw: "event_type" },
    conclusion: { rollup: "conclusion", raw: "conclusion" },
  },
  measures: {
    runs: { rollup: "sum(runs)", raw: "count(*)" },
    successes: conclusionCount("success"),
    failures: conclusionCount("failure"),
    errors: conclusionCount("error"),
    inputTokens: { rollup: "sum(input_tokens)", raw: "sum(input_tokens)" },
    outputTokens: { rollup: "sum(output_tokens)", raw: "sum(output_tokens)" },
    cacheReadTokens: { rollup: "sum(cache_read_tokens)", raw: "sum(cache_read_tokens)" },
    cacheCreationTokens: { rollup: "sum(cache_creation_tokens)", raw: "sum(cache_creation_tokens)" },
    costUsd: { rollup: "sum(cost_usd)", raw: "sum(cost_usd)" },
    unpricedRuns: { rollup: "sum(unpriced_runs)", raw: "sum(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END)" },
    durationMs: { rollup: "sum(duration_ms)", raw: "sum(duration_ms)" },
  },
  filterColumns: { repos: "repo", models: "model", events: "event_type" },
};

function toUsageRow(row: GroupedRow<UsageDimension, Measure>): UsageRow {
  const { durationMs, ...measures } = row.measures;
  return {
    group: row.group,
    ...measures,
    meanDurationMs: measures.runs > 0 ? durationMs / measures.runs : null,
    p50DurationMs: row.p50,
    p95DurationMs: row.p95,
  };
}

/** Runs, outcomes, tokens, cost and durations, grouped and filtered. */
export function usageReport(driver: SqliteDriver, spec: UsageReportSpec): UsageReport {
  const filters = { repos: spec.filters?.repos, models: spec.filters?.models, events: spec.filters?.events };
  const exact = spec.exact === true;
  const result = runGroupedQuery(driver, USAGE_SOURCE, spec.groupBy, spec.range, filters, exact);

  const useRollups = rollupsCanAnswer(spec.range, exact);
  const where = new Where();
  if (useRollups) {
    where.add("unpriced_runs > 0");
    if (spec.range.since !== undefined) where.add("day >= ?", utcDay(spec.range.since));
    if (spec.range.until !== undefined) where.add("day < ?", utcDay(spec.range.until));
  } else {
    where.add("cost_source = 'unpriced'");
    if (spec.range.since !== undefined) where.add("created_at >= ?", spec.range.since);
    if (spec.range.until !== undefined) where.add("created_at < ?", spec.range.until);
  }
  where.anyGlob("repo", filters.repos).anyGlob("model", filters.models).anyGlob("event_type", filters.events);
  const unpricedModels = driver
    .prepare(`SELECT DISTINCT model FROM ${useRollups ? "daily_usage" : "executions"} ${where.toSql()} ORDER BY model`)
    .all(...where.params)
    .map((r) => String(r.model));

  return {
    kind: "usage",
    groupBy: spec.groupBy,
    range: spec.range,
    source: result.source,
    rows: result.rows.map(toUsageRow),
    totals: toUsageRow(result.totals),
    unpricedModels,
  };
}
