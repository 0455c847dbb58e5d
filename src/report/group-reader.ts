/**
 * How a grouped report reads its groups off a statement's rows: the columns to select for a
 * part (dimensions, and the time-bucket key unless the part counts in buckets of its own), and
 * the groups — labels in the report's zone, keys, signs — each row counts in.
 */
import { bucketLabel } from "./bucket-label.ts";
import type { GroupedSource, Part, TimeColumn } from "./grouped.ts";
import { bucketKeyDivisor } from "./plan.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ParamList } from "./sql/query.ts";

/** How a grouping reads off one part's rows: the columns to select, and the groups each row counts in. */
export interface GroupReader<D extends string> {
  /** `dimension AS g0, …, time key AS k`: the SELECT list (and, by alias, the GROUP BY). */
  columns: string[];
  aliases: string[];
  /** The sign of each group a row counts in (−1: rows of hours taken away from a whole day), by `keyOf`'s index. */
  signs: readonly number[];
  /** The key (see `groupKey`) of the `index`-th group a row counts in (`signs[index]` its sign). */
  keyOf(row: Record<string, unknown>, index: number): string;
  /** The `index`-th group a row counts in, labels in the report's zone. */
  groupOf(row: Record<string, unknown>, index: number): Partial<Record<D, string>>;
}

/**
 * The group columns of `part` for `groupBy`, and how to read a row's groups back, time labels
 * computed once per key. A piece that counts in buckets of its own (`piece.counts`) selects no
 * time key: its rows count in those buckets, whatever their times.
 */
export function groupReader<D extends string, M extends string>(
  dialect: SqlDialect,
  params: ParamList,
  source: GroupedSource<D, M>,
  groupBy: readonly D[],
  { table, piece }: Part<D, M>,
): GroupReader<D> {
  const plainDims = groupBy.filter((d) => source.timeDimensions[d] === undefined);
  const timeDims = groupBy.filter((d) => source.timeDimensions[d] !== undefined);
  const divisor = bucketKeyDivisor(timeDims.map((d) => source.timeDimensions[d]!));
  const columns = plainDims.map((d, i) => `${table.dimensions[d]} AS g${i}`);
  const keyedByRow = timeDims.length > 0 && piece.counts === undefined;
  if (keyedByRow) columns.push(`${timeKeySql(dialect, params, table.time, piece.offsetMs, divisor)} AS k`);
  const labelsOfWall = (wall: number) => {
    const labels: Partial<Record<D, string>> = {};
    for (const d of timeDims) labels[d] = bucketLabel(source.timeDimensions[d]!, wall, piece.offsetMs);
    return labels;
  };
  const timeLabels = new Map<unknown, Partial<Record<D, string>>>();
  const labelsOfKey = (k: unknown) => {
    let labels = timeLabels.get(k);
    if (labels === undefined) timeLabels.set(k, (labels = labelsOfWall(wallOf(table.time, k, piece.offsetMs, divisor))));
    return labels;
  };
  // The buckets a piece of its own counts in: the bucket holding each instant named, labelled as a row of that time would be.
  const counts = keyedByRow ? [{ at: 0, sign: 1 }] : (piece.counts ?? [{ at: 0, sign: 1 }]);
  const fixedLabels = counts.map((c): Partial<Record<D, string>> => (timeDims.length > 0 ? labelsOfWall(Math.floor((c.at + piece.offsetMs) / divisor) * divisor) : {}));
  const plainIndex = new Map(plainDims.map((d, i) => [d, `g${i}`]));
  const labelsFor = (row: Record<string, unknown>, index: number) => (keyedByRow ? labelsOfKey(row.k) : fixedLabels[index]!);
  const groupOf = (row: Record<string, unknown>, index: number) => {
    const group: Partial<Record<D, string>> = { ...labelsFor(row, index) };
    for (const [d, alias] of plainIndex) group[d] = String(row[alias] ?? "");
    return group;
  };
  return {
    columns,
    aliases: columns.map((c) => c.slice(c.lastIndexOf(" AS ") + 4)),
    signs: counts.map((c) => c.sign),
    keyOf(row, index) {
      // The key without building the group object (a row in a hundred makes a new group).
      const labels = labelsFor(row, index);
      return keyOf(groupBy, (d) => {
        const alias = plainIndex.get(d);
        return alias === undefined ? labels[d] : String(row[alias] ?? "");
      });
    },
    groupOf,
  };
}

/** A group's key in a result: its labels in `groupBy` order. */
export function groupKey<D extends string>(groupBy: readonly D[], group: Partial<Record<D, string>>): string {
  return keyOf(groupBy, (d) => group[d]);
}

/** The one key format: each dimension's label in `groupBy` order, NUL-separated. */
function keyOf<D extends string>(groupBy: readonly D[], labelOf: (dimension: D) => string | undefined): string {
  let key = "";
  for (let i = 0; i < groupBy.length; i++) key += (i > 0 ? "\u0000" : "") + (labelOf(groupBy[i]!) ?? "");
  return key;
}

/** The time-bucket key a statement groups by: local hours or days since 1970 for instants, the day itself for rollups. */
function timeKeySql(dialect: SqlDialect, params: ParamList, time: TimeColumn, offsetMs: number, divisor: number): string {
  if (time.kind === "utcDay") return time.column;
  return dialect.intDiv(`(${time.column} + ${params.add(offsetMs)})`, params.add(divisor));
}

/** The local wall time (UTC-encoded) a row's time key stands for. */
function wallOf(time: TimeColumn, key: unknown, offsetMs: number, divisor: number): number {
  if (time.kind === "utcDay") return Date.parse(`${String(key)}T00:00:00Z`) + offsetMs;
  return Number(key) * divisor;
}
