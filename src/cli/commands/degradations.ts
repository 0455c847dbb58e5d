import { renderCsv } from "../../report/format/csv.ts";
import { renderTable, type Column } from "../../report/format/table.ts";
import { formatCount, formatPercent } from "../../report/format/units.ts";
import { DEGRADATION_DIMENSIONS, type CacheRow, type DegradationDimension, type DegradationRow } from "../../report/spec.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../errors.ts";
import { groupCells, groupColumns, type Labelled } from "../group-columns.ts";
import { readReport } from "../open-database.ts";
import { reportJson } from "../../report/request.ts";
import { RANGE_FLAGS, rangeLine, readSpec, tableWidth } from "../report-options.ts";

const HEADERS: Record<DegradationDimension, string> = { repo: "Repo", hour: "Hour", day: "Day", resource: "Resource" };


const howDegraded = (r: DegradationRow) =>
  Object.entries(r.byDegradation)
    .sort(([, a], [, b]) => b - a)
    .map(([how, n]) => `${how} ${n}`)
    .join(", ");

export const degradationsCommand: Command = {
  name: "degradations",
  summary: "runs degraded by rate limits: retries, skipped queries, and cache hit rates",
  flags: {
    by: { type: "string", multiple: true, valueName: "DIMS", description: `group by ${DEGRADATION_DIMENSIONS.join(" | ")} (default: repo)` },
    ...RANGE_FLAGS,
    repo: { type: "string", multiple: true, valueName: "GLOB", description: "only these repos (glob)" },
    exact: { type: "boolean", description: "scan raw rows, not the daily rollups (the same counts; slower on big files)" },
  },
  details: `
One rate-limit row is stored per degraded run (per delivery and event type), however many
retries it took. Cache hit rate = hits / (hits + misses) over the cache lookups in range.
Whole days come from the daily rollups, the rest from raw rows; --exact reads raw rows only.

Examples:
  tally degradations --since 7d
  tally degradations --by day,resource --json`,
  async run(context) {
    const spec = readSpec(context, "degradations");
    const groupBy = spec.groupBy;
    const report = await readReport(context, spec);
    const { stdout } = context.io;
    if (context.format === "json") {
      stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
      return EXIT.ok;
    }
    if (context.format === "csv") {
      const line = (r: DegradationRow, label?: string) => [
        ...groupCells(groupBy, r.group, label),
        r.degradedRuns, r.retryAttempts, r.skippedQueries, howDegraded(r),
      ];
      const header = [...groupBy, "degraded_runs", "retry_attempts", "skipped_queries", "by_degradation"];
      stdout.write(renderCsv(header, [...report.rows.map((r) => line(r)), line(report.totals, "TOTAL")]));
      return EXIT.ok;
    }
    const width = tableWidth(context);
    stdout.write(rangeLine(report));
    if (report.rows.length === 0) {
      stdout.write(`No degraded runs in this range (${formatCount(report.totalRuns)} runs).\n`);
    } else {
      const columns: Column<Labelled<DegradationRow>>[] = [
        ...groupColumns<DegradationDimension, DegradationRow>(groupBy, HEADERS),
        { header: "Degraded runs", align: "right", priority: 1, value: (r) => formatCount(r.degradedRuns) },
        { header: "Retries", align: "right", priority: 2, value: (r) => formatCount(r.retryAttempts) },
        { header: "Skipped queries", align: "right", priority: 2, value: (r) => formatCount(r.skippedQueries) },
        { header: "How", align: "left", priority: 3, value: howDegraded },
      ];
      const totals: Labelled<DegradationRow> = { ...report.totals, label: "Total" };
      stdout.write(renderTable({ columns, rows: report.rows, totals, width, color: context.color }));
      stdout.write(`\n${formatCount(report.totals.degradedRuns)} of ${formatCount(report.totalRuns)} runs degraded (${formatPercent(report.totalRuns > 0 ? report.totals.degradedRuns / report.totalRuns : null)}).\n`);
    }
    if (report.caches.length > 0) {
      const cacheColumns: Column<CacheRow>[] = [
        { header: "Cache", align: "left", priority: 0, value: (c) => c.cache },
        { header: "Hits", align: "right", value: (c) => formatCount(c.hits) },
        { header: "Misses", align: "right", value: (c) => formatCount(c.misses) },
        { header: "Errors", align: "right", value: (c) => formatCount(c.errors) },
        { header: "Hit rate", align: "right", priority: 1, value: (c) => formatPercent(c.hitRate) },
      ];
      stdout.write(`\n${renderTable({ columns: cacheColumns, rows: report.caches, width, color: context.color })}`);
    }
    return EXIT.ok;
  },
};
