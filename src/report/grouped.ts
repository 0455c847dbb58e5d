/**
 * The grouped-report engine, for every store: plans which parts of the range come from
 * rollups and which from raw rows, writes the SQL through the store's dialect, and finishes
 * the rows (time-bucket labels in the report's zone, sums across pieces, percentiles from
 * duration sketches or exact durations, totals, order).
 */
import { addEncodedBuckets, durationBucket, quantileFromBuckets } from "../core/duration-buckets.ts";
import { bucketLabel } from "./bucket-label.ts";
import { parseGlob } from "./glob.ts";
import { bucketKeyDivisor, planPieces, type Piece, type TimeUnit } from "./plan.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram, type SqlQuery } from "./sql/query.ts";
import { DAY_MS } from "../core/time-units.ts";
import type { TimeRange } from "./spec.ts";

/** How a table dates its rows: an epoch-ms instant (raw rows), or a UTC day `YYYY-MM-DD` (rollups). */
export type TimeColumn = { kind: "instant"; column: string } | { kind: "utcDay"; column: string };

/** One table a grouped report can read: how each dimension, measure and filter maps onto it. */
export interface TableSql<D extends string, M extends string> {
  table: string;
  time: TimeColumn;
  /** Non-time dimensions this table can group by; absent ones rule it out for that report. */
  dimensions: Partial<Record<D, string>>;
  /** Sums; the first one counts the rows (runs, calls) and is never 0 for a real group. */
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
  /** The range as read (open ends closed by the data's own bounds), and how. */
  pieces: Piece[];
  /** The rollup table used, if any. */
  rollupTable: string | null;
  /**
   * When part of the range had to be read from raw rows older than the last purge of them:
   * the purge's cut-off. Rows before it are gone, so those parts count less than happened.
   */
  rawPurgedBefore: number | null;
}

export interface GroupedSpec<D extends string> {
  groupBy: readonly D[];
  range: TimeRange;
  timeZone: string;
  filters: Record<string, readonly string[] | undefined>;
  /** Raw rows only: exact percentiles. */
  exact: boolean;
}

/** The pieces of one source that share an offset: one statement reads them. */
export interface PieceGroup<D extends string, M extends string> {
  table: TableSql<D, M>;
  offsetMs: number;
  pieces: Piece[];
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

/** `(time in piece 1 OR …) AND (filter globs)`: every value bound. */
export function piecesWhere<D extends string, M extends string>(
  dialect: SqlDialect,
  params: ParamList,
  group: PieceGroup<D, M>,
  filters: [string, readonly string[]][],
): string {
  const { table } = group;
  const column = table.time.column;
  const bound = (ms: number) => params.add(table.time.kind === "instant" ? ms : new Date(ms).toISOString().slice(0, 10));
  const intervals = group.pieces.map((p) => `(${column} >= ${bound(p.since)} AND ${column} < ${bound(p.until)})`);
  const conditions = [`(${intervals.join(" OR ")})`];
  for (const [name, patterns] of filters) conditions.push(globCondition(dialect, params, table.filterColumns[name]!, patterns));
  return `WHERE ${conditions.join(" AND ")}`;
}

/** The time-bucket key a statement groups by: local hours or days since 1970 for instants, the day itself for rollups. */
export function timeKeySql(dialect: SqlDialect, params: ParamList, time: TimeColumn, offsetMs: number, divisor: number): string {
  if (time.kind === "utcDay") return time.column;
  return dialect.intDiv(`(${time.column} + ${params.add(offsetMs)})`, params.add(divisor));
}

/** The local wall time (UTC-encoded) a row's time key stands for. */
function wallOf(time: TimeColumn, key: unknown, offsetMs: number, divisor: number): number {
  if (time.kind === "utcDay") return Date.parse(`${String(key)}T00:00:00Z`) + offsetMs;
  return Number(key) * divisor;
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

interface Accumulator<D extends string, M extends string> {
  group: Partial<Record<D, string>>;
  measures: Record<M, number>;
  buckets: Map<number, number>;
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
  const filters = Object.entries(spec.filters).filter((entry): entry is [string, readonly string[]] => entry[1] !== undefined && entry[1].length > 0);
  const plainDims = spec.groupBy.filter((d) => source.timeDimensions[d] === undefined);
  const timeDims = spec.groupBy.filter((d) => source.timeDimensions[d] !== undefined);
  const units = timeDims.map((d) => source.timeDimensions[d]!);
  const fits = (t: TableSql<D, M>) => plainDims.every((d) => t.dimensions[d] !== undefined) && filters.every(([name]) => t.filterColumns[name] !== undefined);
  const rollupIndex = spec.exact ? -1 : source.rollups.findIndex(fits);
  const rollup = rollupIndex === -1 ? undefined : source.rollups[rollupIndex];
  const hourlyTable = rollupIndex === -1 ? undefined : source.hourly?.[rollupIndex];
  const measureNames = Object.keys(source.raw.measures) as M[];
  const empty = (): GroupedResult<D, M> => ({
    source: "raw", rows: [], pieces: [], rollupTable: null, rawPurgedBefore: null,
    totals: { group: {}, measures: Object.fromEntries(measureNames.map((m) => [m, 0])) as Record<M, number>, p50: null, p95: null },
  });

  const bounds = yield* resolveBounds(source, spec.range, rollup);
  if (bounds === null) return empty();
  let hourly: { from: number; to: number } | null = null;
  if (hourlyTable !== undefined && source.hourlyCoverageKeys !== undefined) {
    const params = new ParamList(dialect);
    const { from, to } = source.hourlyCoverageKeys;
    const rows = yield { sql: `SELECT key, value FROM tally_meta WHERE key IN (${params.add(from)}, ${params.add(to)})`, params: params.values };
    const value = (key: string) => Number(rows.find((r) => r.key === key)?.value ?? Number.NaN);
    if (Number.isFinite(value(from)) && Number.isFinite(value(to)) && value(from) < value(to)) hourly = { from: value(from), to: value(to) };
  }
  const pieces = planPieces({ ...bounds, timeZone: spec.timeZone, units, exact: spec.exact, dailyRollups: rollup !== undefined, hourly });
  const divisor = bucketKeyDivisor(units);
  const fromRollups = pieces.some((p) => p.source !== "raw");
  // Rollup sketches make every percentile an estimate (±4.8 %): raw durations join them as buckets.
  const useSketches = fromRollups;
  let rawPurgedBefore: number | null = null;
  const rawPieces = pieces.filter((p) => p.source === "raw");
  if (rawPieces.length > 0) {
    const params = new ParamList(dialect);
    const [row] = yield { sql: `SELECT value FROM tally_meta WHERE key = ${params.add(`purged_before:${source.raw.table}`)}`, params: params.values };
    const cutoff = row?.value === null || row?.value === undefined ? Number.NaN : Number(row.value);
    if (Number.isFinite(cutoff) && rawPieces.some((p) => p.since < cutoff)) rawPurgedBefore = cutoff;
  }

  // One statement per piece: a WHERE with many time ranges OR-ed together is read by SQLite as
  // one scan over all of them (measured: 9 s for Kolkata's 30 days instead of 0.3 s).
  const groups: PieceGroup<D, M>[] = pieces.map((piece) => ({
    table: piece.source === "day" ? rollup! : piece.source === "hour" ? hourlyTable! : source.raw,
    offsetMs: piece.offsetMs,
    pieces: [piece],
  }));

  const rows = new Map<string, Accumulator<D, M>>();
  const allBuckets = new Map<number, number>();
  const allDurations: number[] = [];
  for (const group of groups) {
    const { table, offsetMs } = group;
    const params = new ParamList(dialect);
    const select = plainDims.map((d, i) => `${table.dimensions[d]} AS g${i}`);
    if (units.length > 0) select.push(`${timeKeySql(dialect, params, table.time, offsetMs, divisor)} AS k`);
    const groupSql = select.length > 0 ? `GROUP BY ${select.map((s) => s.slice(s.lastIndexOf(" AS ") + 4)).join(", ")}` : "";
    const measures = measureNames.map((m) => `${table.measures[m]} AS "${m}"`);
    const where = piecesWhere(dialect, params, group, filters);
    // Rows share few time keys: each key's labels are worked out once.
    const timeLabels = new Map<unknown, Partial<Record<D, string>>>();
    const labelsOf = (k: unknown) => {
      let labels = timeLabels.get(k);
      if (labels === undefined) {
        const wall = wallOf(table.time, k, offsetMs, divisor);
        labels = {};
        for (const d of timeDims) labels[d] = bucketLabel(source.timeDimensions[d]!, wall, offsetMs);
        timeLabels.set(k, labels);
      }
      return labels;
    };
    const keyOf = (row: Record<string, unknown>): { key: string; group: Partial<Record<D, string>> } => {
      const labels: Partial<Record<D, string>> = units.length > 0 ? { ...labelsOf(row.k) } : {};
      plainDims.forEach((d, i) => (labels[d] = String(row[`g${i}`] ?? "")));
      return { key: spec.groupBy.map((d) => labels[d] ?? "").join("\u0000"), group: labels };
    };

    const sums = yield { sql: `SELECT ${[...select, ...measures].join(", ")} FROM ${table.table} ${where} ${groupSql}`, params: params.values };
    for (const row of sums) {
      if (Number(row[measureNames[0]!] ?? 0) === 0) continue; // an aggregate over no rows
      const { key, group: labels } = keyOf(row);
      let target = rows.get(key);
      if (target === undefined) {
        target = { group: labels, measures: Object.fromEntries(measureNames.map((m) => [m, 0])) as Record<M, number>, buckets: new Map(), durations: [] };
        rows.set(key, target);
      }
      for (const m of measureNames) target.measures[m] += Number(row[m] ?? 0);
    }

    // Durations: the sketches of rollup rows, or each raw row's value; the same WHERE again.
    if (table.durations === undefined) continue;
    const durationParams = new ParamList(dialect);
    const durationSelect = plainDims.map((d, i) => `${table.dimensions[d]} AS g${i}`);
    if (units.length > 0) durationSelect.push(`${timeKeySql(dialect, durationParams, table.time, offsetMs, divisor)} AS k`);
    const durations = table.durations;
    durationSelect.push(`${durations.column} AS dur`);
    const durationWhere = piecesWhere(dialect, durationParams, group, filters);
    const durationRows = yield { sql: `SELECT ${durationSelect.join(", ")} FROM ${table.table} ${durationWhere}`, params: durationParams.values };
    for (const row of durationRows) {
      const target = rows.get(keyOf(row).key);
      if (durations.kind === "sketch") {
        if (target) addEncodedBuckets(target.buckets, row.dur);
        addEncodedBuckets(allBuckets, row.dur);
      } else {
        const d = Number(row.dur);
        if (useSketches) {
          const bucket = durationBucket(d);
          if (target) target.buckets.set(bucket, (target.buckets.get(bucket) ?? 0) + 1);
          allBuckets.set(bucket, (allBuckets.get(bucket) ?? 0) + 1);
        } else {
          target?.durations.push(d);
          allDurations.push(d);
        }
      }
    }
  }

  const percentiles = (buckets: Map<number, number>, durations: number[]) => {
    // A bucket value is an estimate within ±4.8 %: whole milliseconds say no more than it knows.
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    if (useSketches) return { p50: round(quantileFromBuckets(buckets, 0.5)), p95: round(quantileFromBuckets(buckets, 0.95)) };
    const sorted = Float64Array.from(durations).sort();
    return { p50: exactQuantile(sorted, 0.5), p95: exactQuantile(sorted, 0.95) };
  };

  const out: GroupedRow<D, M>[] = [];
  const totalMeasures = Object.fromEntries(measureNames.map((m) => [m, 0])) as Record<M, number>;
  for (const row of rows.values()) {
    for (const m of measureNames) totalMeasures[m] += row.measures[m];
    out.push({ group: row.group, measures: row.measures, ...percentiles(row.buckets, row.durations) });
  }
  out.sort((a, b) => compareGroups(spec.groupBy, a.group, b.group));
  return {
    source: fromRollups ? "rollups" : "raw",
    rows: out,
    totals: { group: {}, measures: totalMeasures, ...percentiles(allBuckets, allDurations) },
    pieces,
    rollupTable: fromRollups ? rollup!.table : null,
    rawPurgedBefore,
  };
}

/** Group order: by each dimension's label in turn. */
export function compareGroups<D extends string>(groupBy: readonly D[], a: Partial<Record<D, string>>, b: Partial<Record<D, string>>): number {
  for (const d of groupBy) {
    const order = (a[d] ?? "").localeCompare(b[d] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}
