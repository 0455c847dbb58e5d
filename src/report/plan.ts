/**
 * How a report reads a time range, decided without knowing the store: which parts come from
 * rollup rows (whole UTC days) and which from raw rows (the partial edges), so that every
 * count and sum equals a scan of the raw rows, for any range and any time zone.
 */
import { ceilTo, DAY_MS, floorTo, HOUR_MS } from "../core/time-units.ts";
import { offsetSpans } from "./time-zone.ts";

/** Time buckets a report can group by. */
export type TimeUnit = "hour" | "day" | "week" | "month";

/**
 * Where a piece of the range is read from: raw rows, rollups of whole UTC days, or rollups of
 * whole slots (hours, or quarter hours for the rollup kept by time alone).
 */
export type PieceSource = "raw" | "slot" | "day";

/** A time bucket a piece's rows count in (named by an instant inside it), added (+1) or taken away (−1). */
export interface PieceCount {
  at: number;
  sign: 1 | -1;
}

/** [since, until) read from one source; every instant of the buckets it counts in has the zone offset `offsetMs`. */
export interface Piece {
  source: PieceSource;
  since: number;
  until: number;
  offsetMs: number;
  /**
   * Where its rows count. Absent: each row in the bucket of its own time (the statement
   * computes it), once. Present: in each bucket listed, with its sign, whatever the rows'
   * times: a whole UTC day read for the bucket that holds most of it, and the hours of that
   * day outside the bucket taken away again (and often added to the neighbouring bucket).
   */
  counts?: PieceCount[];
}

export interface PlanInput {
  /** Both ends resolved: open ends are the data's own bounds. */
  since: number;
  until: number;
  timeZone: string;
  /** The time buckets grouped by (usually none or one). */
  units: readonly TimeUnit[];
  /** Read raw rows only (exact percentiles). */
  exact: boolean;
  /** Whether the source has daily rollups that fit the grouping (some reports only have raw rows). */
  dailyRollups: boolean;
  /**
   * The span [from, to) for which slot rollups (hourly, or quarter-hourly) that fit the grouping
   * hold every row, and the slots' length, or null.
   */
  slots: { from: number; to: number; size: number } | null;
  /** Whether rows may be taken away from a whole day: not for sets (distinct sessions), only for sums. @default true */
  subtract?: boolean;
}

/**
 * What reading a slot of raw rows costs, in slot rollup reads. Measured on 10M runs with
 * hourly slots (BENCHMARKS.md): ~20 when every hour holds thousands of runs, ~1–2 at a small
 * team's density. Only the choice between two exact plans depends on it, never a number.
 */
const RAW_SLOT_COST = 4;

/** Instants in (since, until) where a bucket of `unit` starts, for a span of constant offset. */
function bucketStarts(unit: TimeUnit, since: number, until: number, offsetMs: number): number[] {
  const starts: number[] = [];
  const localSince = since + offsetMs;
  const localUntil = until + offsetMs;
  if (unit === "hour" || unit === "day") {
    const size = unit === "hour" ? HOUR_MS : DAY_MS;
    for (let local = Math.floor(localSince / size) * size + size; local < localUntil; local += size) starts.push(local - offsetMs);
  } else if (unit === "week") {
    // 1970-01-05 (day 4) was a Monday; ISO weeks start on Mondays.
    const firstDay = Math.floor(localSince / DAY_MS) + 1;
    const monday = firstDay + ((((4 - firstDay) % 7) + 7) % 7);
    for (let local = monday * DAY_MS; local < localUntil; local += 7 * DAY_MS) starts.push(local - offsetMs);
  } else {
    const from = new Date(localSince);
    for (let month = from.getUTCMonth() + 1, year = from.getUTCFullYear(); ; month++) {
      const local = Date.UTC(year, month, 1);
      if (local >= localUntil) break;
      starts.push(local - offsetMs);
    }
  }
  return starts;
}

/** A piece as planned: where it counts, and whether it lies inside that bucket (so its rows' own times name it). */
interface Draft extends Piece {
  counts: PieceCount[];
  inside: boolean;
}

/**
 * Cuts [since, until) where the zone's offset changes and where a bucket of `unit` starts;
 * reads each part's whole UTC days from the daily rollups, its other whole slots (hours, or
 * quarter hours) from the slot rollups where they cover them, and raw rows for the rest
 * (partial slots at the edges; with hourly slots, the half hours of a +05:30 zone's days). A
 * part that holds most of a UTC day but not all of it reads the whole day and takes the slots
 * outside it away, when that reads less: a day of Los Angeles is one UTC day less 8 hours,
 * plus 8 hours, rather than 24 hours. The same slots, taken from one bucket and added to the
 * next, are read once. Adjacent pieces of one source, each inside its own bucket, are merged
 * into one statement.
 */
export function planPieces(input: PlanInput): Piece[] {
  const drafts: Draft[] = [];
  const covered = input.slots;
  const slot = covered?.size ?? HOUR_MS;
  const draft = (source: PieceSource, since: number, until: number, offsetMs: number, count: PieceCount, inside: boolean) => {
    if (since < until) drafts.push({ source, since, until, offsetMs, counts: [count], inside });
  };
  /**
   * How [since, until) splits into raw rows before, whole slots the slot rollups cover, and
   * raw rows after (`from` = `to` when no slot is covered).
   */
  const splitSlots = (since: number, until: number) => {
    const firstSlot = ceilTo(since, slot);
    const lastSlot = floorTo(until, slot);
    if (covered === null || firstSlot >= lastSlot) return { from: until, to: until };
    const from = Math.min(Math.max(firstSlot, covered.from), lastSlot);
    return { from, to: Math.max(Math.min(lastSlot, covered.to), from) };
  };
  /** Reads [since, until) from whole slots where the slot rollups cover them, raw rows elsewhere. */
  const readSlots = (since: number, until: number, offsetMs: number, count: PieceCount, inside: boolean) => {
    const { from, to } = splitSlots(since, until);
    draft("raw", since, from, offsetMs, count, inside);
    draft("slot", from, to, offsetMs, count, inside);
    draft("raw", to, until, offsetMs, count, inside);
  };
  /** What `readSlots` would cost, in slot rollup reads. */
  const slotsCost = (since: number, until: number) => {
    if (since >= until) return 0;
    const { from, to } = splitSlots(since, until);
    return ((from - since + (until - to)) / slot) * RAW_SLOT_COST + (to - from) / slot;
  };
  /** One segment lies inside one bucket; each UTC day it touches is read whole, in part, or whole less the rest. */
  const coverSegment = (since: number, until: number, offsetMs: number) => {
    const own: PieceCount = { at: since, sign: 1 };
    if (input.exact || (!input.dailyRollups && covered === null) || ceilTo(since, slot) >= floorTo(until, slot)) {
      return draft("raw", since, until, offsetMs, own, true);
    }
    for (let day = floorTo(since, DAY_MS); day < until; day += DAY_MS) {
      const from = Math.max(since, day);
      const to = Math.min(until, day + DAY_MS);
      if (input.dailyRollups && from === day && to === day + DAY_MS) {
        draft("day", day, day + DAY_MS, offsetMs, own, true);
      } else if (input.dailyRollups && input.subtract !== false && 1 + slotsCost(day, from) + slotsCost(to, day + DAY_MS) < slotsCost(from, to)) {
        draft("day", day, day + DAY_MS, offsetMs, own, false);
        readSlots(day, from, offsetMs, { at: since, sign: -1 }, false);
        readSlots(to, day + DAY_MS, offsetMs, { at: since, sign: -1 }, false);
      } else {
        readSlots(from, to, offsetMs, own, true);
      }
    }
  };
  // Without time buckets the zone changes nothing: instants are instants.
  const spans = input.units.length === 0 ? [{ since: input.since, until: input.until, offsetMs: 0 }] : offsetSpans(input.timeZone, input.since, input.until);
  for (const span of spans) {
    const starts = new Set<number>();
    for (const unit of input.units) for (const start of bucketStarts(unit, span.since, span.until, span.offsetMs)) starts.add(start);
    const cuts = [span.since, ...[...starts].sort((a, b) => a - b), span.until];
    for (let i = 0; i + 1 < cuts.length; i++) coverSegment(cuts[i]!, cuts[i + 1]!, span.offsetMs);
  }
  return mergeDrafts(drafts);
}

/**
 * One statement per distinct read: the same rows for two buckets (hours taken from one day
 * and added to the next) are read once and counted in both; then runs of adjacent pieces of
 * one source that each lie inside the one bucket they count in become one statement whose
 * rows name their own bucket.
 */
function mergeDrafts(drafts: Draft[]): Piece[] {
  const byRead = new Map<string, Draft>();
  for (const d of drafts) {
    const key = `${d.source} ${d.since} ${d.until} ${d.offsetMs}`;
    const same = byRead.get(key);
    if (same === undefined) byRead.set(key, { ...d, counts: [...d.counts] });
    else {
      same.counts.push(...d.counts);
      same.inside = false;
    }
  }
  const pieces: Piece[] = [];
  for (const d of [...byRead.values()].sort((a, b) => a.since - b.since || a.until - b.until)) {
    const { counts, inside, ...read } = d;
    if (!inside || counts.length !== 1 || counts[0]!.sign !== 1) {
      pieces.push({ ...read, counts });
      continue;
    }
    const last = pieces[pieces.length - 1];
    if (last && last.counts === undefined && last.source === read.source && last.offsetMs === read.offsetMs && last.until === read.since) last.until = read.until;
    else pieces.push(read);
  }
  return pieces;
}

/**
 * What the store divides a row's local time by to get its bucket key (local hours or local
 * days since 1970): hours when grouping by hour, else days, from which weeks and months follow.
 */
export function bucketKeyDivisor(units: readonly TimeUnit[]): number {
  return units.includes("hour") ? HOUR_MS : DAY_MS;
}
