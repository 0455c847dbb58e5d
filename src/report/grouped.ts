/**
 * The grouped-report engine, for every store: plans which parts of the range come from
 * rollups and which from raw rows, writes the SQL through the store's dialect, and finishes
 * the rows (time-bucket labels in the report's zone, sums across pieces, percentiles from
 * duration sketches or exact durations, totals, order).
 */
import { durationBucket, DurationCounts } from "../core/duration-buckets.ts";
import { parseGlob } from "./glob.ts";
import { groupReader } from "./group-reader.ts";
import { planPieces, type Piece, type TimeUnit } from "./plan.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram, type SqlQuery } from "./sql/query.ts";
import { DAY_MS, HOUR_MS } from "../core/time-units.ts";
import type { TimeRange } from "./spec.ts";

/** How a table dates its rows: an epoch-ms instant (raw rows), or a UTC day `YYYY-MM-DD` (rollups). */
export type TimeColumn = { kind: "instant"; column: string } | { kind: "utcDay"; column: string };

/** One table a grouped report can read: how each dimension, measure and filter maps onto it. */
export interface TableSql<D extends string, M extends string> {
  table: string;
  time: TimeColumn;
  /** Non-time dimensions this table can group by; absent ones rule it out for that report. */
  dimensions: Partial<Record<D, string>>;
  /**
   * What each row adds to each sum, as an expression of its columns (the engine sums them, in
   * the statement for raw rows, here for rollup rows); the first counts the rows (runs, calls)
   * and is never 0 for a real group.
   */
  measures: Record<M, string>;
  /** Filter name → column; absent ones rule it out when that filter is set. */
  filterColumns: Record<string, string>;
  /** Where durations are: a value per raw row, or a sketch per rollup row (none: no percentiles). */
  durations?: { kind: "values" | "sketch"; column: string };
}

/** A family of tables: daily rollups from smallest to largest, their hourly twins where kept, and the raw table. */
export interface GroupedSource<D extends string, M extends string> {
  rollups: TableSql<D, M>[];
  /** Hourly rollups, at the same index as the daily rollup they refine (same dimensions and filters). */
  hourly?: (TableSql<D, M> | undefined)[];
  /** The `tally_meta` keys of the span [from, to) of hours the hourly rollups hold every row of. */
  hourlyCoverageKeys?: { from: string; to: string };
  /**
   * A rollup kept by time alone, in slots shorter than an hour (quarter hours): a report grouped
   * by time buckets only, with no filter, reads it instead of the rollups above over a range
   * its span covers, so a day of a +05:30 or +05:45 zone is read from rollups to the minute.
   */
  byTimeAlone?: { table: TableSql<D, M>; slotMs: number; coverageKeys: { from: string; to: string } };
  raw: TableSql<D, M>;
  /** The dimensions that are time buckets, and their unit. */
  timeDimensions: Partial<Record<D, TimeUnit>>;
}

export interface GroupedRow<D extends string, M extends string> {
  group: Partial<Record<D, string>>;
  measures: Record<M, number>;
  p50: number | null;
  p95: number | null;
}

export interface GroupedResult<D extends string, M extends string> {
  /** `rollups` when any part of the range came from rollups (percentiles then ±4.8 %), else `raw`. */
  source: "rollups" | "raw";
  rows: GroupedRow<D, M>[];
  totals: GroupedRow<D, M>;
  /** Both ends of the range as read (open ends closed by the data's own bounds), or null for no data. */
  bounds: { since: number; until: number } | null;
  /**
   * ISO time of the last purge of raw rows, when part of the range had to be read from raw
   * rows older than it: those parts count less than happened. Else null.
   */
  rawRowsPurgedBefore: string | null;
}

export interface GroupedSpec<D extends string> {
  groupBy: readonly D[];
  range: TimeRange;
  timeZone: string;
  filters: Record<string, readonly string[] | undefined>;
  /** Raw rows only: exact percentiles. */
  exact: boolean;
  /** Read durations for p50/p95 (the sketches are most of a rollup row). @default true */
  percentiles?: boolean;
}

/** A piece of the range and the table it is read from: one statement reads it. */
export interface Part<D extends string, M extends string> {
  piece: Piece;
  table: TableSql<D, M>;
}

/** The filters that are set, as [name, patterns]. */
export function activeFilters(filters: Record<string, readonly string[] | undefined>): [string, readonly string[]][] {
  return Object.entries(filters).filter((entry): entry is [string, readonly string[]] => entry[1] !== undefined && entry[1].length > 0);
}

/** `column >= since AND column < until` for the ends a range has, or "" for an open range. */
export function rangeCondition(params: ParamList, column: string, range: TimeRange): string {
  const conditions: string[] = [];
  if (range.since !== undefined) conditions.push(`${column} >= ${params.add(range.since)}`);
  if (range.until !== undefined) conditions.push(`${column} < ${params.add(range.until)}`);
  return conditions.join(" AND ");
}

/** `column GLOB ? OR …` for a filter's patterns, in the dialect's pattern language. */
export function globCondition(dialect: SqlDialect, params: ParamList, column: string, patterns: readonly string[]): string {
  return `(${patterns.map((p) => dialect.globMatch(column, params.add(dialect.globParam(parseGlob(p))))).join(" OR ")})`;
}

/**
 * `WHERE time in the piece AND (filter globs)`, every value bound. One piece per statement: a
 * WHERE with many time ranges OR-ed together is read by SQLite as one scan across all of them
 * (measured: 9 s for Kolkata's 30 days instead of 0.3 s).
 */
export function partWhere<D extends string, M extends string>(
  dialect: SqlDialect,
  params: ParamList,
  { table, piece }: Part<D, M>,
  filters: readonly [string, readonly string[]][],
): string {
  const column = table.time.column;
  const bound = (ms: number) => params.add(table.time.kind === "instant" ? ms : new Date(ms).toISOString().slice(0, 10));
  const conditions = [`${column} >= ${bound(piece.since)}`, `${column} < ${bound(piece.until)}`];
  for (const [name, patterns] of filters) conditions.push(globCondition(dialect, params, table.filterColumns[name]!, patterns));
  return `WHERE ${conditions.join(" AND ")}`;
}

/** Both ends of a range: given, or the data's own (one cheap min/max query per table). */
function* resolveBounds<D extends string, M extends string>(
  source: GroupedSource<D, M>,
  range: TimeRange,
  rollup: TableSql<D, M> | undefined,
): Generator<SqlQuery, { since: number; until: number } | null, Record<string, unknown>[]> {
  if (range.since !== undefined && range.until !== undefined) return { since: range.since, until: range.until };
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const table of rollup ? [source.raw, rollup] : [source.raw]) {
    const c = table.time.column;
    const asMs = (value: unknown) => (table.time.kind === "instant" ? Number(value) : Date.parse(`${String(value)}T00:00:00Z`));
    // One aggregate per statement: that is what lets SQLite read it off the index's end.
    if (range.since === undefined) {
      const [row] = yield { sql: `SELECT min(${c}) AS v FROM ${table.table}`, params: [] };
      if (row?.v !== null && row?.v !== undefined) low = Math.min(low, asMs(row.v));
    }
    if (range.until === undefined) {
      const [row] = yield { sql: `SELECT max(${c}) AS v FROM ${table.table}`, params: [] };
      if (row?.v !== null && row?.v !== undefined) high = Math.max(high, asMs(row.v) + (table.time.kind === "instant" ? 1 : DAY_MS));
    }
  }
  if (range.since !== undefined) low = range.since;
  if (range.until !== undefined) high = range.until;
  if (!Number.isFinite(low) || !Number.isFinite(high)) return null;
  // Whole UTC days around the data, so an open end never cuts a rollup day in two.
  const since = range.since ?? Math.floor(low / DAY_MS) * DAY_MS;
  const until = range.until ?? Math.ceil(high / DAY_MS) * DAY_MS;
  return since < until ? { since, until } : null;
}

/** Nearest-rank quantile of a sorted array. */
function exactQuantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

interface Accumulator<D extends string> {
  group: Partial<Record<D, string>>;
  /** The sums, in the source's measure order. */
  sums: Float64Array;
  /** What float additions to `sums` lost (Neumaier), as the databases' own sum() keeps it. */
  lost: Float64Array;
  buckets: DurationCounts;
  durations: number[];
}

/**
 * Runs a grouped report: whole UTC days inside each time bucket from the rollups (when the
 * grouping and filters fit one), everything else from raw rows, so every count and sum equals
 * a raw scan. Dimension and measure SQL come from the source's allow-list; values are bound.
 */
export function* groupedReport<D extends string, M extends string>(
  dialect: SqlDialect,
  source: GroupedSource<D, M>,
  spec: GroupedSpec<D>,
): ReportProgram<GroupedResult<D, M>> {
  const filters = activeFilters(spec.filters);
  const plainDims = spec.groupBy.filter((d) => source.timeDimensions[d] === undefined);
  const units = spec.groupBy.filter((d) => source.timeDimensions[d] !== undefined).map((d) => source.timeDimensions[d]!);
  const fits = (t: TableSql<D, M>) => plainDims.every((d) => t.dimensions[d] !== undefined) && filters.every(([name]) => t.filterColumns[name] !== undefined);
  const rollupIndex = spec.exact ? -1 : source.rollups.findIndex(fits);
  const rollup = rollupIndex === -1 ? undefined : source.rollups[rollupIndex];
  const hourlyTable = rollupIndex === -1 ? undefined : source.hourly?.[rollupIndex];
  const measureNames = Object.keys(source.raw.measures) as M[];
  const zeros = () => Object.fromEntries(measureNames.map((m) => [m, 0])) as Record<M, number>;

  const bounds = yield* resolveBounds(source, spec.range, rollup);
  if (bounds === null) return { source: "raw", rows: [], bounds: null, rawRowsPurgedBefore: null, totals: { group: {}, measures: zeros(), p50: null, p95: null } };

  // The facts the plan needs, in one read: which slots the slot rollups cover, and where raw
  // rows were last purged.
  const coverage = hourlyTable === undefined ? undefined : source.hourlyCoverageKeys;
  const timeAlone = !spec.exact && plainDims.length === 0 && filters.length === 0 ? source.byTimeAlone : undefined;
  const purgedKey = `purged_before:${source.raw.table}`;
  const keys = [purgedKey, ...(coverage ? [coverage.from, coverage.to] : []), ...(timeAlone ? [timeAlone.coverageKeys.from, timeAlone.coverageKeys.to] : [])];
  const metaParams = new ParamList(dialect);
  const metaRows = yield { sql: `SELECT key, value FROM tally_meta WHERE key IN (${keys.map((k) => metaParams.add(k)).join(", ")})`, params: metaParams.values };
  const meta = (key: string) => Number(metaRows.find((r) => r.key === key)?.value ?? Number.NaN);
  const span = (k: { from: string; to: string } | undefined) => (k && meta(k.from) < meta(k.to) ? { from: meta(k.from), to: meta(k.to) } : null);
  const alone = span(timeAlone?.coverageKeys);
  // By time alone where its span reaches back to the range's start (before it, its slots are
  // gone with the raw rows) and to within a day of its end: after the span come raw rows, and a
  // writer that fell behind (a large import) leaves more of them than the daily rollups would.
  const useTimeAlone = timeAlone !== undefined && alone !== null && alone.from <= bounds.since && alone.to >= bounds.until - DAY_MS;
  const hourly = span(coverage);
  const pieces = useTimeAlone
    ? planPieces({ ...bounds, timeZone: spec.timeZone, units, exact: false, dailyRollups: false, slots: { ...alone, size: timeAlone.slotMs } })
    : planPieces({ ...bounds, timeZone: spec.timeZone, units, exact: spec.exact, dailyRollups: rollup !== undefined, slots: hourly && { ...hourly, size: HOUR_MS } });
  const slotTable = useTimeAlone ? timeAlone.table : hourlyTable;
  const parts: Part<D, M>[] = pieces.map((piece) => ({ piece, table: piece.source === "day" ? rollup! : piece.source === "slot" ? slotTable! : source.raw }));
  // Rollup sketches make every percentile an estimate (±4.8 %): raw durations join them as buckets.
  const fromRollups = pieces.some((p) => p.source !== "raw");
  const purgedBefore = meta(purgedKey);
  const readsPurged = pieces.some((p) => p.source === "raw" && p.since < purgedBefore);

  const rows = new Map<string, Accumulator<D>>();
  const allDurations: number[] = [];
  const wantDurations = spec.percentiles !== false;
  const measureCount = measureNames.length;
  const values = new Float64Array(measureCount);
  const targets: Accumulator<D>[] = [];
  for (const part of parts) {
    const { table } = part;
    const durations = wantDurations ? table.durations : undefined;
    const params = new ParamList(dialect);
    const reader = groupReader(dialect, params, source, spec.groupBy, part);
    const where = partWhere(dialect, params, part, filters);
    // The database sums rows, listing raw rows' durations per group; but rollup rows whose
    // sketches are wanted are read one by one and summed here, sketches and all, in one
    // statement (a second statement for the sketches read every row again).
    const summedHere = part.piece.source !== "raw" && durations !== undefined;
    const select = summedHere
      ? [...reader.columns, ...measureNames.map((m) => `${table.measures[m]} AS "${m}"`), ...(durations ? [`${durations.column} AS dur`] : [])]
      : [...reader.columns, ...measureNames.map((m) => `sum(${table.measures[m]}) AS "${m}"`), ...(durations ? [`${dialect.listAgg(durations.column)} AS dur`] : [])];
    const groupSql = !summedHere && reader.aliases.length > 0 ? ` GROUP BY ${reader.aliases.join(", ")}` : "";
    const result = yield { sql: `SELECT ${select.join(", ")} FROM ${table.table} ${where}${groupSql}`, params: params.values };
    const { signs } = reader;
    const firstMeasure = reader.columns.length;
    const sketches = durations?.kind === "sketch";
    for (const row of result) {
      // A row's cells in SELECT order: one read of them all costs less than a read by name per measure.
      const cells = Object.values(row);
      for (let i = 0; i < measureCount; i++) values[i] = Number(cells[firstMeasure + i] ?? 0);
      if (values[0] === 0) continue; // an aggregate over no rows
      const dur = durations === undefined ? null : (cells[firstMeasure + measureCount] ?? null);
      targets.length = 0;
      for (let index = 0; index < signs.length; index++) {
        const key = reader.keyOf(row, index);
        let target = rows.get(key);
        if (target === undefined) rows.set(key, (target = { group: reader.groupOf(row, index), sums: new Float64Array(measureCount), lost: new Float64Array(measureCount), buckets: new DurationCounts(), durations: [] }));
        const sign = signs[index]!;
        for (let i = 0; i < measureCount; i++) addCompensated(target.sums, target.lost, i, sign * values[i]!);
        if (sketches && dur !== null) target.buckets.addEncoded(dur, sign);
        targets.push(target);
      }
      if (dur === null || sketches) continue;
      const listed = String(dur).split(",");
      if (fromRollups) {
        for (const value of listed) {
          const bucket = durationBucket(Number(value));
          for (let index = 0; index < targets.length; index++) targets[index]!.buckets.add(bucket, signs[index]!);
        }
      } else {
        // Raw rows only: every piece counts once, in its rows' own buckets.
        for (const value of listed) {
          targets[0]!.durations.push(Number(value));
          allDurations.push(Number(value));
        }
      }
    }
  }

  const percentiles = (buckets: DurationCounts, durations: number[]) => {
    // A bucket value is an estimate within ±4.8 %: whole milliseconds say no more than it knows.
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    if (fromRollups) return { p50: round(buckets.quantile(0.5)), p95: round(buckets.quantile(0.95)) };
    const sorted = Float64Array.from(durations).sort();
    return { p50: exactQuantile(sorted, 0.5), p95: exactQuantile(sorted, 0.95) };
  };

  const out: GroupedRow<D, M>[] = [];
  const totalSums = new Float64Array(measureCount);
  const totalLost = new Float64Array(measureCount);
  const named = (sums: Float64Array, lost: Float64Array) => Object.fromEntries(measureNames.map((m, i) => [m, sums[i]! + lost[i]!])) as Record<M, number>;
  // The totals' buckets are the groups' (each row's sketch was added to its groups with their
  // signs, which is what it adds to the totals): one sum per group instead of one per row.
  const allBuckets = new DurationCounts();
  for (const row of rows.values()) {
    // A group seen only in hours taken away from a whole day has no rows in the range.
    if (row.sums[0]! + row.lost[0]! === 0) continue;
    allBuckets.addCounts(row.buckets);
    for (let i = 0; i < measureCount; i++) addCompensated(totalSums, totalLost, i, row.sums[i]! + row.lost[i]!);
    out.push({ group: row.group, measures: named(row.sums, row.lost), ...percentiles(row.buckets, row.durations) });
  }
  const totalMeasures = named(totalSums, totalLost);
  out.sort((a, b) => compareGroups(spec.groupBy, a.group, b.group));
  return {
    source: fromRollups ? "rollups" : "raw",
    rows: out,
    totals: { group: {}, measures: totalMeasures, ...percentiles(allBuckets, allDurations) },
    bounds,
    rawRowsPurgedBefore: readsPurged ? new Date(purgedBefore).toISOString() : null,
  };
}

/** `sums[i] += value`, keeping what the float addition lost in `lost[i]` (Neumaier's summation). */
function addCompensated(sums: Float64Array, lost: Float64Array, i: number, value: number): void {
  const sum = sums[i]!;
  const next = sum + value;
  lost[i]! += Math.abs(sum) >= Math.abs(value) ? sum - next + value : value - next + sum;
  sums[i] = next;
}

/** Group order: by each dimension's label in turn. */
export function compareGroups<D extends string>(groupBy: readonly D[], a: Partial<Record<D, string>>, b: Partial<Record<D, string>>): number {
  for (const d of groupBy) {
    const order = (a[d] ?? "").localeCompare(b[d] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}
