/** The usage report (runs, outcomes, tokens, cost, durations) for every store. */
import { arrangeRows, USAGE_SORT_FIELDS } from "./arrange.ts";
import { activeFilters, groupedReport, partWhere, type GroupedRow, type GroupedSource } from "./grouped.ts";
import type { UsageDimension, UsageReport, UsageReportSpec, UsageRow } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram } from "./sql/query.ts";

type Measure = "runs" | "successes" | "failures" | "errors" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd" | "unpricedRuns" | "durationMs";

const TOKEN_SUMS = {
  inputTokens: "sum(input_tokens)",
  outputTokens: "sum(output_tokens)",
  cacheReadTokens: "sum(cache_read_tokens)",
  cacheCreationTokens: "sum(cache_creation_tokens)",
  costUsd: "sum(cost_usd)",
  durationMs: "sum(duration_ms)",
} as const;

const conclusionCount = (word: string, countColumn: string) => `sum(CASE WHEN conclusion = '${word}' THEN ${countColumn} ELSE 0 END)`;

const DAY = { kind: "utcDay", column: "day" } as const;

/** The dimensions and sums of the coarsest rollups, per day and per hour. */
const MODEL_DIMENSIONS = { repo: "repo", model: "model", provider: "provider" };
const MODEL_MEASURES = {
  runs: "sum(runs)", successes: "sum(successes)", failures: "sum(failures)", errors: "sum(errors)",
  ...TOKEN_SUMS, unpricedRuns: "sum(unpriced_runs)",
};

/** The dimensions of daily_usage and of the raw table alike. */
const EVERY_DIMENSION = { repo: "repo", model: "model", provider: "provider", event: "event_type", conclusion: "conclusion" };

/** Runs and their outcomes from a conclusion column, each row weighing `countColumn` (`runs` in a rollup, `1` raw). */
const outcomeCounts = (countColumn: string) => ({
  runs: `sum(${countColumn})`,
  successes: conclusionCount("success", countColumn),
  failures: conclusionCount("failure", countColumn),
  errors: conclusionCount("error", countColumn),
});

/**
 * Executions: daily_model_usage (day × repo × provider × model) answers most questions;
 * daily_usage (also × event × conclusion) the rest; the raw table the partial edges and --exact.
 */
export const USAGE_SOURCE: GroupedSource<UsageDimension, Measure> = {
  timeDimensions: { hour: "hour", day: "day", week: "week", month: "month" },
  rollups: [
    {
      table: "daily_model_usage",
      time: DAY,
      dimensions: MODEL_DIMENSIONS,
      measures: MODEL_MEASURES,
      filterColumns: { repos: "repo", models: "model" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
    {
      table: "daily_usage",
      time: DAY,
      dimensions: EVERY_DIMENSION,
      measures: { ...outcomeCounts("runs"), ...TOKEN_SUMS, unpricedRuns: "sum(unpriced_runs)" },
      filterColumns: { repos: "repo", models: "model", events: "event_type", conclusions: "conclusion" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
  ],
  // Each daily rollup has an hourly twin, rolled up by the writer from closed hours.
  hourly: [
    {
      table: "hourly_model_usage",
      time: { kind: "instant", column: "hour" },
      dimensions: MODEL_DIMENSIONS,
      measures: MODEL_MEASURES,
      filterColumns: { repos: "repo", models: "model" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
    {
      table: "hourly_usage",
      time: { kind: "instant", column: "hour" },
      dimensions: EVERY_DIMENSION,
      measures: { ...outcomeCounts("runs"), ...TOKEN_SUMS, unpricedRuns: "sum(unpriced_runs)" },
      filterColumns: { repos: "repo", models: "model", events: "event_type", conclusions: "conclusion" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
  ],
  hourlyCoverageKeys: { from: "hourly_from", to: "hourly_to" },
  raw: {
    table: "executions",
    time: { kind: "instant", column: "created_at" },
    dimensions: EVERY_DIMENSION,
    measures: { ...outcomeCounts("1"), runs: "count(*)", ...TOKEN_SUMS, unpricedRuns: "sum(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END)" },
    filterColumns: { repos: "repo", models: "model", events: "event_type", conclusions: "conclusion" },
    durations: { kind: "values", column: "duration_ms" },
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
export function* usageReport(dialect: SqlDialect, spec: UsageReportSpec): ReportProgram<UsageReport> {
  const filters = { repos: spec.filters?.repos, models: spec.filters?.models, events: spec.filters?.events, conclusions: spec.filters?.conclusions };
  const timeZone = spec.timeZone ?? "UTC";
  const result = yield* groupedReport(dialect, USAGE_SOURCE, { groupBy: spec.groupBy, range: spec.range, timeZone, filters, exact: spec.exact === true, percentiles: spec.percentiles !== false });

  // Unpriced models come from the same parts that answered, with the same filters.
  const unpriced = new Set<string>();
  for (const part of result.parts) {
    const params = new ParamList(dialect);
    const where = partWhere(dialect, params, part, activeFilters(filters));
    const condition = part.piece.source === "raw" ? "cost_source = 'unpriced'" : "unpriced_runs > 0";
    const rows = yield { sql: `SELECT DISTINCT model FROM ${part.table.table} ${where} AND ${condition}`, params: params.values };
    for (const row of rows) unpriced.add(String(row.model));
  }

  return {
    kind: "usage",
    groupBy: spec.groupBy,
    range: spec.range,
    timeZone,
    source: result.source,
    rows: arrangeRows(result.rows.map(toUsageRow), USAGE_SORT_FIELDS, spec.sort, spec.limit),
    totals: toUsageRow(result.totals),
    unpricedModels: [...unpriced].sort(),
    rawRowsPurgedBefore: result.rawRowsPurgedBefore,
  };
}
