import type { Column } from "../report/format/table.ts";
import { formatDuration } from "../report/format/units.ts";
import type { DurationStats } from "../report/spec.ts";

/** A report row, possibly the totals row, which carries a label instead of group values. */
export type Labelled<R extends { group: Partial<Record<string, string>> }> = R & { label?: string };

/** The left-hand group columns of a report table; the totals row shows its label in the first. */
export function groupColumns<D extends string, R extends { group: Partial<Record<D, string>> }>(
  groupBy: readonly D[],
  headers: Record<D, string>,
): Column<Labelled<R>>[] {
  return groupBy.map((d, i) => ({
    header: headers[d],
    align: "left",
    priority: 0,
    value: (r) => (r.label !== undefined ? (i === 0 ? r.label : "") : r.group[d] || "(none)"),
  }));
}

/** The group cells of a CSV line; the totals line has its label in the first cell. */
export function groupCells<D extends string>(groupBy: readonly D[], group: Partial<Record<D, string>>, label?: string): string[] {
  return groupBy.map((d, i) => (label !== undefined ? (i === 0 ? label : "") : group[d] ?? ""));
}

/** Durations every report shows: mean (exact) and p50/p95, with the priorities of each column. */
export function durationColumns<R extends DurationStats>(
  priorities: { mean: number; p50: number; p95: number },
): Column<R>[] {
  return [
    { header: "Mean", align: "right", priority: priorities.mean, value: (r) => formatDuration(r.meanDurationMs) },
    { header: "p50", align: "right", priority: priorities.p50, value: (r) => formatDuration(r.p50DurationMs) },
    { header: "p95", align: "right", priority: priorities.p95, value: (r) => formatDuration(r.p95DurationMs) },
  ];
}
