import { addEncodedBuckets, quantileFromBuckets } from "../../../core/duration-buckets.ts";
import type { TimeRange } from "../../../report/spec.ts";
import { isUtcMidnight } from "../../../report/time-range.ts";
import type { SqliteDriver } from "../driver.ts";
import { utcDay } from "../utc-day.ts";
import { Where } from "./where.ts";

/** One table a grouped report can read: how each dimension, measure and filter maps onto it. */
export interface TableSql<D extends string, M extends string> {
  table: string;
  /** Dimensions this table can group by; absent ones rule it out for that report. */
  dimensions: Partial<Record<D, string>>;
  measures: Record<M, string>;
  /** Filter name → column; absent ones rule it out when that filter is set. */
  filterColumns: Record<string, string>;
}

/**
 * Everything the engine needs to know about one family of tables: rollups from smallest to
 * largest (each row has a `duration_buckets` sketch and a `day`), and the raw table.
 */
export interface GroupedSource<D extends string, M extends string> {
  rollups: TableSql<D, M>[];
  raw: TableSql<D, M> & { dimensions: Record<D, string> };
}

export interface GroupedRow<D extends string, M extends string> {
  group: Partial<Record<D, string>>;
  measures: Record<M, number>;
  p50: number | null;
  p95: number | null;
}

export interface GroupedResult<D extends string, M extends string> {
  source: "rollups" | "raw";
  /** The table that answered. */
  table: string;
  rows: GroupedRow<D, M>[];
  totals: GroupedRow<D, M>;
}

/** Rollups hold whole UTC days, so they answer only ranges that start and end at midnight. */
export function rollupsCanAnswer(range: TimeRange, exact: boolean): boolean {
  return !exact && (range.since === undefined || isUtcMidnight(range.since)) && (range.until === undefined || isUtcMidnight(range.until));
}

/** The time range as conditions: on `day` for rollups (whole UTC days), on `created_at` for raw rows. */
export function rangeWhere(range: TimeRange, useRollups: boolean): Where {
  const where = new Where();
  if (useRollups) {
    if (range.since !== undefined) where.add("day >= ?", utcDay(range.since));
    if (range.until !== undefined) where.add("day < ?", utcDay(range.until));
  } else {
    if (range.since !== undefined) where.add("created_at >= ?", range.since);
    if (range.until !== undefined) where.add("created_at < ?", range.until);
  }
  return where;
}

/** Nearest-rank quantile of a sorted array. */
function exactQuantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/**
 * Runs a grouped report: sums from the rollups (and p50/p95 from their duration buckets)
 * when the range allows, otherwise from raw rows (exact percentiles). Dimension and
 * measure SQL come from the source's allow-list; filter values are bound.
 */
export function runGroupedQuery<D extends string, M extends string>(
  driver: SqliteDriver,
  source: GroupedSource<D, M>,
  groupBy: readonly D[],
  range: TimeRange,
  filters: Record<string, readonly string[] | undefined>,
  exact: boolean,
): GroupedResult<D, M> {
  const activeFilters = Object.entries(filters).filter(([, patterns]) => patterns !== undefined && patterns.length > 0);
  const fits = (t: TableSql<D, M>) => groupBy.every((d) => t.dimensions[d] !== undefined) && activeFilters.every(([name]) => t.filterColumns[name] !== undefined);
  const rollup = rollupsCanAnswer(range, exact) ? source.rollups.find(fits) : undefined;
  const useRollups = rollup !== undefined;
  const chosen: TableSql<D, M> = rollup ?? source.raw;
  const where = rangeWhere(range, useRollups);
  for (const [name, patterns] of activeFilters) where.anyGlob(chosen.filterColumns[name]!, patterns);
  const dimensionSql = groupBy.map((d, i) => `${chosen.dimensions[d]} AS g${i}`);
  const groupSql = groupBy.length > 0 ? `GROUP BY ${groupBy.map((_, i) => `g${i}`).join(", ")}` : "";
  const measureNames = Object.keys(chosen.measures) as M[];
  const measureSql = measureNames.map((m) => `${chosen.measures[m]} AS "${m}"`);
  const sums = driver
    .prepare(`SELECT ${[...dimensionSql, ...measureSql].join(", ")} FROM ${chosen.table} ${where.toSql()} ${groupSql}`)
    .all(...where.params);

  const keyOf = (row: Record<string, unknown>) => groupBy.map((_, i) => String(row[`g${i}`] ?? "")).join("\u0000");
  const rows = new Map<string, GroupedRow<D, M> & { buckets: Map<number, number>; durations: number[] }>();
  for (const row of sums) {
    const runs = Number(row[measureNames[0]!] ?? 0);
    if (runs === 0) continue; // an aggregate over no rows
    const group: Partial<Record<D, string>> = {};
    groupBy.forEach((d, i) => (group[d] = String(row[`g${i}`] ?? "")));
    const measures = Object.fromEntries(measureNames.map((m) => [m, Number(row[m] ?? 0)])) as Record<M, number>;
    rows.set(keyOf(row), { group, measures, p50: null, p95: null, buckets: new Map(), durations: [] });
  }

  const allBuckets = new Map<number, number>();
  const allDurations: number[] = [];
  if (useRollups) {
    // Sketches are merged here rather than in SQL: one pass over the rollup rows in range,
    // no sort, and no bucket table whose size would be groups × buckets.
    const sketches = driver
      .prepare(`SELECT ${[...dimensionSql, "duration_buckets AS b"].join(", ")} FROM ${chosen.table} ${where.toSql()}`)
      .all(...where.params);
    for (const row of sketches) {
      const target = rows.get(keyOf(row));
      if (target) addEncodedBuckets(target.buckets, row.b);
    }
    for (const row of rows.values()) for (const [bucket, n] of row.buckets) allBuckets.set(bucket, (allBuckets.get(bucket) ?? 0) + n);
  } else {
    const durationRows = driver
      .prepare(`SELECT ${[...dimensionSql, "duration_ms AS d"].join(", ")} FROM ${chosen.table} ${where.toSql()}`)
      .all(...where.params);
    for (const row of durationRows) {
      const d = Number(row.d);
      rows.get(keyOf(row))?.durations.push(d);
      allDurations.push(d);
    }
  }

  const percentiles = (buckets: Map<number, number>, durations: number[]) => {
    // A bucket value is an estimate within ±4.8 %: whole milliseconds say no more than it knows.
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    if (useRollups) return { p50: round(quantileFromBuckets(buckets, 0.5)), p95: round(quantileFromBuckets(buckets, 0.95)) };
    const sorted = Float64Array.from(durations).sort();
    return { p50: exactQuantile(sorted, 0.5), p95: exactQuantile(sorted, 0.95) };
  };

  const out: GroupedRow<D, M>[] = [];
  const totalMeasures = Object.fromEntries(measureNames.map((m) => [m, 0])) as Record<M, number>;
  for (const row of rows.values()) {
    Object.assign(row, percentiles(row.buckets, row.durations));
    for (const m of measureNames) totalMeasures[m] += row.measures[m];
    out.push({ group: row.group, measures: row.measures, p50: row.p50, p95: row.p95 });
  }
  out.sort((a, b) => compareGroups(groupBy, a.group, b.group));
  return { source: useRollups ? "rollups" : "raw", table: chosen.table, rows: out, totals: { group: {}, measures: totalMeasures, ...percentiles(allBuckets, allDurations) } };
}

function compareGroups<D extends string>(groupBy: readonly D[], a: Partial<Record<D, string>>, b: Partial<Record<D, string>>): number {
  for (const d of groupBy) {
    const order = (a[d] ?? "").localeCompare(b[d] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}
