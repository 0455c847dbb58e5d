/** The usage report (runs, outcomes, tokens, cost, durations) for every store. */
import { arrangeRows, USAGE_SORT_FIELDS } from "./arrange.ts";
import { groupedReport, type GroupedRow, type GroupedSource } from "./grouped.ts";
import { QUARTER_HOUR_MS } from "../core/time-units.ts";
import type { UsageDimension, UsageReport, UsageReportSpec, UsageRow } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ReportProgram } from "./sql/query.ts";

type Measure = "runs" | "successes" | "failures" | "errors" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd" | "unpricedRuns" | "durationMs";

/** What a row adds to each sum (the engine sums them). */
const TOKEN_SUMS = {
  inputTokens: "input_tokens",
  outputTokens: "output_tokens",
  cacheReadTokens: "cache_read_tokens",
  cacheCreationTokens: "cache_creation_tokens",
  costUsd: "cost_usd",
  durationMs: "duration_ms",
} as const;

const conclusionCount = (word: string, countColumn: string) => `CASE WHEN conclusion = '${word}' THEN ${countColumn} ELSE 0 END`;

const DAY = { kind: "utcDay", column: "day" } as const;

/** The dimensions and sums of the coarsest rollups, per day and per hour. */
const MODEL_DIMENSIONS = { repo: "repo", model: "model", provider: "provider" };
const MODEL_MEASURES = {
  runs: "runs", successes: "successes", failures: "failures", errors: "errors",
  ...TOKEN_SUMS, unpricedRuns: "unpriced_runs",
};

/** The dimensions of daily_usage and of the raw table alike. */
const EVERY_DIMENSION = { repo: "repo", model: "model", provider: "provider", event: "event_type", conclusion: "conclusion" };

/** Runs and their outcomes from a conclusion column, each row weighing `countColumn` (`runs` in a rollup, `1` raw). */
const outcomeCounts = (countColumn: string) => ({
  runs: countColumn,
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
      measures: { ...outcomeCounts("runs"), ...TOKEN_SUMS, unpricedRuns: "unpriced_runs" },
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
      measures: { ...outcomeCounts("runs"), ...TOKEN_SUMS, unpricedRuns: "unpriced_runs" },
      filterColumns: { repos: "repo", models: "model", events: "event_type", conclusions: "conclusion" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
  ],
  hourlyCoverageKeys: { from: "hourly_from", to: "hourly_to" },
  // Runs by quarter hour alone, rolled up with the hours: charts over time in any zone.
  byTimeAlone: {
    table: {
      table: "quarter_hour_usage",
      time: { kind: "instant", column: "quarter_hour" },
      dimensions: {},
      measures: MODEL_MEASURES,
      filterColumns: {},
      durations: { kind: "sketch", column: "duration_buckets" },
    },
    slotMs: QUARTER_HOUR_MS,
    coverageKeys: { from: "quarter_hours_from", to: "quarter_hours_to" },
  },
  raw: {
    table: "executions",
    time: { kind: "instant", column: "created_at" },
    dimensions: EVERY_DIMENSION,
    measures: { ...outcomeCounts("1"), ...TOKEN_SUMS, unpricedRuns: "CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END" },
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

  // Unpriced models: those with unpriced runs in the range, from a by-model report of the same
  // range and filters. None to look for when the range holds no unpriced run, which the sums
  // already say.
  const unpricedRuns = new Map<string, number>();
  if (result.totals.measures.unpricedRuns > 0 && result.bounds !== null) {
    const byModel = yield* groupedReport(dialect, USAGE_SOURCE, { groupBy: ["model"], range: result.bounds, timeZone, filters, exact: spec.exact === true, percentiles: false });
    for (const row of byModel.rows) unpricedRuns.set(row.group.model ?? "", row.measures.unpricedRuns);
  }
  const unpriced = [...unpricedRuns].filter(([, runs]) => runs > 0).map(([model]) => model);

  return {
    kind: "usage",
    groupBy: spec.groupBy,
    range: spec.range,
    timeZone,
    source: result.source,
    rows: arrangeRows(result.rows.map(toUsageRow), USAGE_SORT_FIELDS, spec.sort, spec.limit),
    totals: toUsageRow(result.totals),
    unpricedModels: unpriced.sort(),
    rawRowsPurgedBefore: result.rawRowsPurgedBefore,
  };
}
