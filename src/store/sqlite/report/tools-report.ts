import type { ToolDimension, ToolRow, ToolsReport, ToolsReportSpec } from "../../../report/spec.ts";
import type { SqliteDriver } from "../driver.ts";
import { rangeWhere, runGroupedQuery, type GroupedRow, type GroupedSource } from "./grouped-query.ts";

type Measure = "calls" | "errors" | "cancelled" | "durationMs";

const RAW_DAY = "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')";

const ERROR_OUTCOMES = "outcome IN ('tool_error', 'protocol_error')";

/** Tool calls: daily_tool_usage (sums and duration sketches), or tool_calls itself. */
export const TOOL_SOURCE: GroupedSource<ToolDimension, Measure> = {
  rollups: [
    {
      table: "daily_tool_usage",
      dimensions: { tool: "tool_name", server: "server", day: "day" },
      measures: {
        calls: "sum(calls)",
        errors: `sum(CASE WHEN ${ERROR_OUTCOMES} THEN calls ELSE 0 END)`,
        cancelled: "sum(CASE WHEN outcome = 'cancelled' THEN calls ELSE 0 END)",
        durationMs: "sum(duration_ms)",
      },
      filterColumns: { tools: "tool_name", servers: "server" },
    },
  ],
  raw: {
    table: "tool_calls",
    dimensions: { tool: "tool_name", server: "server", day: RAW_DAY },
    measures: {
      calls: "count(*)",
      errors: `sum(CASE WHEN ${ERROR_OUTCOMES} THEN 1 ELSE 0 END)`,
      cancelled: "sum(CASE WHEN outcome = 'cancelled' THEN 1 ELSE 0 END)",
      durationMs: "sum(duration_ms)",
    },
    filterColumns: { tools: "tool_name", servers: "server" },
  },
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
export function toolsReport(driver: SqliteDriver, spec: ToolsReportSpec): ToolsReport {
  const filters = { tools: spec.filters?.tools, servers: spec.filters?.servers };
  const result = runGroupedQuery(driver, TOOL_SOURCE, spec.groupBy, spec.range, filters, false);

  // Distinct sessions cannot be summed across days, so they come from the raw rows in range.
  const where = rangeWhere(spec.range, false).anyGlob("tool_name", filters.tools).anyGlob("server", filters.servers);
  const dims = spec.groupBy.map((d, i) => `${TOOL_SOURCE.raw.dimensions[d]} AS g${i}`);
  const sessionRows = driver
    .prepare(`SELECT ${[...dims, "count(DISTINCT session_id) AS sessions"].join(", ")} FROM tool_calls ${where.toSql()}
      ${spec.groupBy.length > 0 ? `GROUP BY ${spec.groupBy.map((_, i) => `g${i}`).join(", ")}` : ""}`)
    .all(...where.params);
  const sessionsByKey = new Map(sessionRows.map((r) => [spec.groupBy.map((_, i) => String(r[`g${i}`] ?? "")).join("\u0000"), Number(r.sessions)]));
  const totalSessions = Number(
    driver.prepare(`SELECT count(DISTINCT session_id) AS n FROM tool_calls ${where.toSql()}`).get(...where.params)?.n ?? 0,
  );
  const keyOf = (group: Partial<Record<ToolDimension, string>>) => spec.groupBy.map((d) => group[d] ?? "").join("\u0000");

  return {
    kind: "tools",
    groupBy: spec.groupBy,
    range: spec.range,
    rows: result.rows.map((row) => toToolRow(row, sessionsByKey.get(keyOf(row.group)) ?? 0)),
    totals: toToolRow(result.totals, totalSessions),
  };
}
