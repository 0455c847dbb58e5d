import { USAGE_SORT_FIELDS } from "../../report/arrange.ts";
import { renderCsv } from "../../report/format/csv.ts";
import { renderTable, type Column } from "../../report/format/table.ts";
import { formatCount, formatUsd } from "../../report/format/units.ts";
import { USAGE_DIMENSIONS, type UsageDimension, type UsageRow } from "../../report/spec.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../errors.ts";
import { durationColumns, groupCells, groupColumns, type Labelled } from "../group-columns.ts";
import { readReport } from "../open-database.ts";
import { reportJson } from "../../report/request.ts";
import { LIST_FLAGS, RANGE_FLAGS, purgedNote, rangeLine, readSpec, tableWidth } from "../report-options.ts";


const HEADERS: Record<UsageDimension, string> = {
  hour: "Hour", day: "Day", week: "Week of", month: "Month", repo: "Repo", model: "Model", provider: "Provider", event: "Event", conclusion: "Conclusion",
};

function columns(groupBy: UsageDimension[]): Column<Labelled<UsageRow>>[] {
  const groups = groupColumns<UsageDimension, UsageRow>(groupBy, HEADERS);
  const n = (header: string, value: (r: UsageRow) => string, priority: number): Column<UsageRow> => ({ header, align: "right", value, priority });
  return [
    ...groups,
    n("Runs", (r) => formatCount(r.runs), 1),
    n("OK", (r) => formatCount(r.successes), 4),
    n("Fail", (r) => formatCount(r.failures), 3),
    n("Err", (r) => formatCount(r.errors), 3),
    n("Input", (r) => formatCount(r.inputTokens), 2),
    n("Output", (r) => formatCount(r.outputTokens), 2),
    n("Cache read", (r) => formatCount(r.cacheReadTokens), 4),
    n("Cache write", (r) => formatCount(r.cacheCreationTokens), 4),
    n("Cost", (r) => formatUsd(r.costUsd) + (r.unpricedRuns > 0 ? "*" : ""), 1),
    ...durationColumns<UsageRow>({ mean: 6, p50: 5, p95: 3 }),
  ];
}

export const reportCommand: Command = {
  name: "report",
  summary: "runs, outcomes, tokens, cost and duration, grouped and filtered",
  flags: {
    by: { type: "string", multiple: true, valueName: "DIMS", description: `group by ${USAGE_DIMENSIONS.join(" | ")} (comma-separated; default: day)` },
    ...RANGE_FLAGS,
    repo: { type: "string", multiple: true, valueName: "GLOB", description: "only these repos (glob: acme/*)" },
    model: { type: "string", multiple: true, valueName: "GLOB", description: "only these models (glob: claude-*)" },
    event: { type: "string", multiple: true, valueName: "GLOB", description: "only these event types (glob: pull_request.*)" },
    conclusion: { type: "string", multiple: true, valueName: "GLOB", description: "only these conclusions (success, failure, error)" },
    ...LIST_FLAGS,
    exact: { type: "boolean", description: "scan raw rows: exact percentiles, any time range (slower on big files)" },
  },
  details: `
Sort fields: ${Object.keys(USAGE_SORT_FIELDS).join(", ")}.
Ranges: 7d is the last 7 × 24 hours; today, yesterday and dates are calendar days of --tz
(default $TZ, else the machine's zone); --until DATE includes that day. Hours, days, weeks
(from Monday) and months of --by are those of --tz too. Whole UTC days that fall inside one
bucket are read from the daily rollups, the rest from raw rows, so every count and sum is
exact; p50/p95 are then within ±4.8 % (--exact reads raw rows only: exact percentiles).
Cost marked * includes runs whose model Tally could not price.

Examples:
  tally report --since 30d --by repo,model
  tally report --by day --format csv > usage.csv
  tally report --since 7d --repo 'acme/*' --event 'pull_request.*' --sort cost --limit 10
  tally report --since 12h --by model --json
  tally report --since 24h --by hour --tz Europe/Berlin
  tally report --since yesterday --until yesterday --by repo`,
  async run(context) {
    const spec = readSpec(context, "usage");
    const groupBy = spec.groupBy;
    const report = await readReport(context, spec);
    const rows = report.rows;
    const { stdout } = context.io;
    if (context.format === "json") {
      stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
      return EXIT.ok;
    }
    if (context.format === "csv") {
      const measures = ["runs", "successes", "failures", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "cost_usd", "unpriced_runs", "mean_duration_ms", "p50_duration_ms", "p95_duration_ms"];
      const line = (r: UsageRow, label?: string) => [
        ...groupCells(groupBy, r.group, label),
        r.runs, r.successes, r.failures, r.errors, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens,
        r.costUsd, r.unpricedRuns, r.meanDurationMs, r.p50DurationMs, r.p95DurationMs,
      ];
      stdout.write(renderCsv([...groupBy, ...measures], [...rows.map((r) => line(r)), line(report.totals, "TOTAL")]));
      return EXIT.ok;
    }
    stdout.write(rangeLine(report));
    if (report.rows.length === 0) {
      stdout.write("No runs in this range.\n");
      return EXIT.ok;
    }
    const totals: Labelled<UsageRow> = { ...report.totals, label: "Total" };
    stdout.write(renderTable({ columns: columns(groupBy), rows, totals, width: tableWidth(context), color: context.color }));
    stdout.write(purgedNote(report.rawRowsPurgedBefore));
    if (report.totals.unpricedRuns > 0) {
      stdout.write(
        `\n* ${formatCount(report.totals.unpricedRuns)} runs could not be priced (${report.unpricedModels.join(", ")}); they count as $0 above.\n` +
          `  Give their price: createTelemetry({ pricing: { prices: { "<model>": { inputMtok, outputMtok } } } })\n`,
      );
    }
    return EXIT.ok;
  },
};
