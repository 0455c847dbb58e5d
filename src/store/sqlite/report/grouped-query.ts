import { quantileFromBuckets } from "../../../core/duration-buckets.ts";
import type { TimeRange } from "../../../report/spec.ts";
import { isUtcMidnight } from "../../../report/time-range.ts";
import type { SqliteDriver } from "../driver.ts";
import { utcDay } from "../utc-day.ts";
import { Where } from "./where.ts";

/** How one dimension reads from the rollup table and from the raw table. */
export interface DimensionSql {
  rollup: string;
  raw: string;
}

/** An aggregate over a group: its SQL on the rollup table and on the raw table. */
export interface MeasureSql {
  rollup: string;
  raw: string;
}

/** Everything the engine needs to know about one family of tables. */
export interface GroupedSource<D extends string, M extends string> {
  rollupTable: string;
  bucketTable: string;
  /** The count column of the bucket table (`runs`, `calls`). */
  bucketCount: string;
  rawTable: string;
  dimensions: Record<D, DimensionSql>;
  measures: Record<M, MeasureSql>;
  /** Filter name → column (the same name in rollup and raw tables). */
  filterColumns: Record<string, string>;
}

export interface GroupedRow<D extends string, M extends string> {
  group: Partial<Record<D, string>>;
  measures: Record<M, number>;
  p50: number | null;
  p95: number | null;
}

export interface GroupedResult<D extends string, M extends string> {
  source: "rollups" | "raw";
  rows: GroupedRow<D, M>[];
  totals: GroupedRow<D, M>;
}

/** Rollups hold whole UTC days, so they answer only ranges that start and end at midnight. */
export function rollupsCanAnswer(range: TimeRange, exact: boolean): boolean {
  return !exact && (range.since === undefined || isUtcMidnight(range.since)) && (range.until === undefined || isUtcMidnight(range.until));
}

function rangeWhere(range: TimeRange, useRollups: boolean): Where {
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
  const useRollups = rollupsCanAnswer(range, exact);
  const side = useRollups ? "rollup" : "raw";
  const where = rangeWhere(range, useRollups);
  for (const [name, patterns] of Object.entries(filters)) {
    const column = source.filterColumns[name];
    if (column === undefined) throw new Error(`unknown filter ${name}`);
    where.anyGlob(column, patterns);
  }
  const dimensionSql = groupBy.map((d, i) => `${source.dimensions[d][side]} AS g${i}`);
  const groupSql = groupBy.length > 0 ? `GROUP BY ${groupBy.map((_, i) => `g${i}`).join(", ")}` : "";
  const measureNames = Object.keys(source.measures) as M[];
  const measureSql = measureNames.map((m) => `${source.measures[m][side]} AS "${m}"`);
  const table = useRollups ? source.rollupTable : source.rawTable;
  const sums = driver
    .prepare(`SELECT ${[...dimensionSql, ...measureSql].join(", ")} FROM ${table} ${where.toSql()} ${groupSql}`)
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
    const bucketRows = driver
      .prepare(`SELECT ${[...dimensionSql, "bucket", `sum(${source.bucketCount}) AS n`].join(", ")} FROM ${source.bucketTable} ${where.toSql()}
        GROUP BY ${[...groupBy.map((_, i) => `g${i}`), "bucket"].join(", ")}`)
      .all(...where.params);
    for (const row of bucketRows) {
      const bucket = Number(row.bucket);
      const n = Number(row.n);
      const target = rows.get(keyOf(row));
      if (target) target.buckets.set(bucket, (target.buckets.get(bucket) ?? 0) + n);
      allBuckets.set(bucket, (allBuckets.get(bucket) ?? 0) + n);
    }
  } else {
    const durationRows = driver
      .prepare(`SELECT ${[...dimensionSql, "duration_ms AS d"].join(", ")} FROM ${source.rawTable} ${where.toSql()}`)
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
  return { source: useRollups ? "rollups" : "raw", rows: out, totals: { group: {}, measures: totalMeasures, ...percentiles(allBuckets, allDurations) } };
}

function compareGroups<D extends string>(groupBy: readonly D[], a: Partial<Record<D, string>>, b: Partial<Record<D, string>>): number {
  for (const d of groupBy) {
    const order = (a[d] ?? "").localeCompare(b[d] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}
