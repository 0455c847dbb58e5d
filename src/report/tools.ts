/** The tools report (calls, errors, latency, sessions per tool and server) for every store. */
import { arrangeRows, TOOL_SORT_FIELDS } from "./arrange.ts";
import { activeFilters, groupedReport, partWhere, type GroupedRow, type GroupedSource } from "./grouped.ts";
import { groupKey, groupReader } from "./group-reader.ts";
import type { ToolDimension, ToolRow, ToolsReport, ToolsReportSpec } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram } from "./sql/query.ts";
import { planPieces } from "./plan.ts";

type Measure = "calls" | "errors" | "cancelled" | "durationMs";

const ERROR_OUTCOMES = "outcome IN ('tool_error', 'protocol_error')";

/** Tool calls: daily_tool_usage (sums and duration sketches), or tool_calls itself. */
export const TOOL_SOURCE: GroupedSource<ToolDimension, Measure> = {
  timeDimensions: { hour: "hour", day: "day" },
  rollups: [
    {
      table: "daily_tool_usage",
      time: { kind: "utcDay", column: "day" },
      dimensions: { tool: "tool_name", server: "server" },
      measures: {
        calls: "calls",
        errors: `CASE WHEN ${ERROR_OUTCOMES} THEN calls ELSE 0 END`,
        cancelled: "CASE WHEN outcome = 'cancelled' THEN calls ELSE 0 END",
        durationMs: "duration_ms",
      },
      filterColumns: { tools: "tool_name", servers: "server" },
      durations: { kind: "sketch", column: "duration_buckets" },
    },
  ],
  raw: {
    table: "tool_calls",
    time: { kind: "instant", column: "created_at" },
    dimensions: { tool: "tool_name", server: "server" },
    measures: {
      calls: "1",
      errors: `CASE WHEN ${ERROR_OUTCOMES} THEN 1 ELSE 0 END`,
      cancelled: "CASE WHEN outcome = 'cancelled' THEN 1 ELSE 0 END",
      durationMs: "duration_ms",
    },
    filterColumns: { tools: "tool_name", servers: "server" },
    durations: { kind: "values", column: "duration_ms" },
  },
};

/** The sessions that called each tool: the set kept per day, or the raw calls. */
const SESSION_SOURCE: GroupedSource<ToolDimension, never> = {
  timeDimensions: { hour: "hour", day: "day" },
  rollups: [
    {
      table: "daily_tool_sessions",
      time: { kind: "utcDay", column: "day" },
      dimensions: { tool: "tool_name", server: "server" },
      measures: {},
      filterColumns: { tools: "tool_name", servers: "server" },
    },
  ],
  raw: { ...TOOL_SOURCE.raw, measures: {}, durations: undefined },
};

function toToolRow(row: GroupedRow<ToolDimension, Measure>, sessions: number): ToolRow {
  const { calls, errors, cancelled, durationMs } = row.measures;
  return {
    group: row.group,
    calls,
    errors,
    errorRate: calls > 0 ? errors / calls : 0,
    cancelled,
    meanDurationMs: calls > 0 ? durationMs / calls : null,
    p50DurationMs: row.p50,
    p95DurationMs: row.p95,
    sessions,
  };
}

/** Calls, error rate and latency by tool and server, with the sessions that made them. */
export function* toolsReport(dialect: SqlDialect, spec: ToolsReportSpec): ReportProgram<ToolsReport> {
  const filters = { tools: spec.filters?.tools, servers: spec.filters?.servers };
  const timeZone = spec.timeZone ?? "UTC";
  const result = yield* groupedReport(dialect, TOOL_SOURCE, { groupBy: spec.groupBy, range: spec.range, timeZone, filters, exact: spec.exact === true, percentiles: spec.percentiles !== false });

  // Distinct sessions cannot be summed, nor taken away: whole days from the set of (day, tool,
  // session) kept, partial days from the raw calls, and the sets united here.
  const sessionsByKey = new Map<string, Set<string>>();
  const allSessions = new Set<string>();
  const units = spec.groupBy.filter((d): d is "hour" | "day" => d === "hour" || d === "day");
  const pieces = result.bounds === null ? [] : planPieces({ ...result.bounds, timeZone, units, exact: spec.exact === true, dailyRollups: true, slots: null, subtract: false });
  for (const piece of pieces) {
    const part = { piece, table: piece.source === "day" ? SESSION_SOURCE.rollups[0]! : SESSION_SOURCE.raw };
    const params = new ParamList(dialect);
    const reader = groupReader(dialect, params, SESSION_SOURCE, spec.groupBy, part);
    const where = partWhere(dialect, params, part, activeFilters(filters));
    const rows = yield { sql: `SELECT DISTINCT ${[...reader.columns, "session_id AS s"].join(", ")} FROM ${part.table.table} ${where} AND session_id IS NOT NULL`, params: params.values };
    for (const row of rows) {
      const key = reader.keyOf(row, 0);
      let set = sessionsByKey.get(key);
      if (set === undefined) sessionsByKey.set(key, (set = new Set()));
      set.add(String(row.s));
      allSessions.add(String(row.s));
    }
  }

  return {
    kind: "tools",
    groupBy: spec.groupBy,
    range: spec.range,
    timeZone,
    rows: arrangeRows(result.rows.map((row) => toToolRow(row, sessionsByKey.get(groupKey(spec.groupBy, row.group))?.size ?? 0)), TOOL_SORT_FIELDS, spec.sort, spec.limit),
    totals: toToolRow(result.totals, allSessions.size),
    rawRowsPurgedBefore: result.rawRowsPurgedBefore,
  };
}
