import type { UsageDimension, UsageReport, UsageReportSpec, UsageRow } from "../../../report/spec.ts";
import type { SqliteDriver } from "../driver.ts";
import { rangeWhere, runGroupedQuery, type GroupedRow, type GroupedSource } from "./grouped-query.ts";

const RAW_DAY = "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')";

type Measure = "runs" | "successes" | "failures" | "errors" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd" | "unpricedRuns" | "durationMs";

const TOKEN_SUMS = {
  inputTokens: "sum(input_tokens)",
  outputTokens: "sum(output_tokens)",
  cacheReadTokens: "sum(cache_read_tokens)",
  cacheCreationTokens: "sum(cache_creation_tokens)",
  costUsd: "sum(cost_usd)",
  durationMs: "sum(duration_ms)",
} as const;

const ROLLUP_TIME = {
  day: "day",
  // Weeks start on Monday (ISO); the label is that Monday's date.
  week: "date(day, '-6 days', 'weekday 1')",
  month: "substr(day, 1, 7)",
} as const;

const conclusionCount = (word: string, countColumn: string) => `sum(CASE WHEN conclusion = '${word}' THEN ${countColumn} ELSE 0 END)`;

/**
 * Executions: daily_model_usage (day × repo × provider × model) answers most questions;
 * daily_usage (also × event × conclusion) the rest; the raw table hour ranges and --exact.
 */
export const USAGE_SOURCE: GroupedSource<UsageDimension, Measure> = {
  rollups: [
    {
      table: "daily_model_usage",
      dimensions: { ...ROLLUP_TIME, repo: "repo", model: "model", provider: "provider" },
      measures: {
        runs: "sum(runs)", successes: "sum(successes)", failures: "sum(failures)", errors: "sum(errors)",
        ...TOKEN_SUMS, unpricedRuns: "sum(unpriced_runs)",
      },
      filterColumns: { repos: "repo", models: "model" },
    },
    {
      table: "daily_usage",
      dimensions: { ...ROLLUP_TIME, repo: "repo", model: "model", provider: "provider", event: "event_type", conclusion: "conclusion" },
      measures: {
        runs: "sum(runs)", successes: conclusionCount("success", "runs"), failures: conclusionCount("failure", "runs"),
        errors: conclusionCount("error", "runs"), ...TOKEN_SUMS, unpricedRuns: "sum(unpriced_runs)",
      },
      filterColumns: { repos: "repo", models: "model", events: "event_type" },
    },
  ],
  raw: {
    table: "executions",
    dimensions: {
      day: RAW_DAY,
      week: `date(${RAW_DAY}, '-6 days', 'weekday 1')`,
      month: "strftime('%Y-%m', created_at / 1000, 'unixepoch')",
      repo: "repo", model: "model", provider: "provider", event: "event_type", conclusion: "conclusion",
    },
    measures: {
      runs: "count(*)", successes: conclusionCount("success", "1"), failures: conclusionCount("failure", "1"),
      errors: conclusionCount("error", "1"), ...TOKEN_SUMS, unpricedRuns: "sum(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END)",
    },
    filterColumns: { repos: "repo", models: "model", events: "event_type" },
  },
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

  // Unpriced models come from the same table that answered, with the same filters.
  const useRollups = result.source === "rollups";
  const where = rangeWhere(spec.range, useRollups).add(useRollups ? "unpriced_runs > 0" : "cost_source = 'unpriced'");
  where.anyGlob("repo", filters.repos).anyGlob("model", filters.models).anyGlob("event_type", filters.events);
  const unpricedModels = driver
    .prepare(`SELECT DISTINCT model FROM ${result.table} ${where.toSql()} ORDER BY model`)
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
