import { TOOL_SORT_FIELDS } from "../../report/arrange.ts";
import { renderCsv } from "../../report/format/csv.ts";
import { renderTable, type Column } from "../../report/format/table.ts";
import { formatCount, formatPercent } from "../../report/format/units.ts";
import { TOOL_DIMENSIONS, type ToolDimension, type ToolRow } from "../../report/spec.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../errors.ts";
import { durationColumns, groupCells, groupColumns, type Labelled } from "../group-columns.ts";
import { readReport } from "../open-database.ts";
import { reportJson } from "../../report/request.ts";
import { LIST_FLAGS, RANGE_FLAGS, purgedNote, rangeLine, readSpec, tableWidth } from "../report-options.ts";


const HEADERS: Record<ToolDimension, string> = { tool: "Tool", server: "Server", hour: "Hour", day: "Day" };


function columns(groupBy: ToolDimension[]): Column<Labelled<ToolRow>>[] {
  const n = (header: string, value: (r: ToolRow) => string, priority: number): Column<Labelled<ToolRow>> => ({ header, align: "right", value, priority });
  return [
    ...groupColumns<ToolDimension, ToolRow>(groupBy, HEADERS),
    n("Calls", (r) => formatCount(r.calls), 1),
    n("Errors", (r) => formatCount(r.errors), 2),
    n("Error rate", (r) => formatPercent(r.errorRate), 1),
    n("Cancelled", (r) => formatCount(r.cancelled), 5),
    ...durationColumns<ToolRow>({ mean: 6, p50: 3, p95: 2 }),
    n("Sessions", (r) => formatCount(r.sessions), 4),
  ];
}

export const toolsCommand: Command = {
  name: "tools",
  summary: "tool calls: how often, how slow, how often they fail, by tool and server",
  flags: {
    by: { type: "string", multiple: true, valueName: "DIMS", description: `group by ${TOOL_DIMENSIONS.join(" | ")} (default: tool,server)` },
    ...RANGE_FLAGS,
    tool: { type: "string", multiple: true, valueName: "GLOB", description: "only these tools (glob)" },
    server: { type: "string", multiple: true, valueName: "GLOB", description: "only these servers (glob)" },
    ...LIST_FLAGS,
    exact: { type: "boolean", description: "scan raw rows: exact percentiles (slower on big files)" },
  },
  details: `
Sort fields: ${Object.keys(TOOL_SORT_FIELDS).join(", ")}. Errors are tool_error and protocol_error outcomes.
Whole days come from the daily rollups (p50/p95 then within ±4.8 %), the rest of the range
from raw rows; counts and sums are exact either way. Days are those of --tz.

Examples:
  tally tools --since 7d
  tally tools --by server --sort error-rate
  tally tools --tool 'search_*' --by tool,day --json`,
  async run(context) {
    const spec = readSpec(context, "tools");
    const groupBy = spec.groupBy;
    const report = await readReport(context, spec);
    const rows = report.rows;
    const { stdout } = context.io;
    if (context.format === "json") {
      stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
    } else if (context.format === "csv") {
      const line = (r: ToolRow, label?: string) => [
        ...groupCells(groupBy, r.group, label),
        r.calls, r.errors, r.errorRate, r.cancelled, r.meanDurationMs, r.p50DurationMs, r.p95DurationMs, r.sessions,
      ];
      const header = [...groupBy, "calls", "errors", "error_rate", "cancelled", "mean_duration_ms", "p50_duration_ms", "p95_duration_ms", "sessions"];
      stdout.write(renderCsv(header, [...rows.map((r) => line(r)), line(report.totals, "TOTAL")]));
    } else if (report.rows.length === 0) {
      stdout.write(`${rangeLine(report)}No tool calls in this range.\n`);
    } else {
      const totals: Labelled<ToolRow> = { ...report.totals, label: "Total" };
      stdout.write(rangeLine(report));
      stdout.write(renderTable({ columns: columns(groupBy), rows, totals, width: tableWidth(context), color: context.color }));
      stdout.write(purgedNote(report.rawRowsPurgedBefore));
    }
    return EXIT.ok;
  },
};
