/**
 * How a report reads a time range, decided without knowing the store: which parts come from
 * rollup rows (whole UTC days) and which from raw rows (the partial edges), so that every
 * count and sum equals a scan of the raw rows, for any range and any time zone.
 */
import { DAY_MS, HOUR_MS } from "../core/time-units.ts";
import { offsetSpans } from "./time-zone.ts";

/** Time buckets a report can group by. */
export type TimeUnit = "hour" | "day" | "week" | "month";

/** Where a piece of the range is read from: raw rows, or rollups of whole UTC hours or days. */
export type PieceSource = "raw" | "hour" | "day";

/** [since, until) read from one source; every instant in it has the zone offset `offsetMs`. */
export interface Piece {
  source: PieceSource;
  since: number;
  until: number;
  offsetMs: number;
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
  /** The hours [from, to) for which hourly rollups that fit the grouping hold every row, or null. */
  hourly: { from: number; to: number } | null;
}

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

/**
 * Cuts [since, until) where the zone's offset changes and where a bucket of `unit` starts,
 * then reads each part from whole UTC days of the daily rollups, whole hours of the hourly
 * ones where they cover them, and raw rows for the rest (partial hours at the edges, the half
 * hours of a +05:30 zone's days). Adjacent pieces of one source and offset are merged.
 */
export function planPieces(input: PlanInput): Piece[] {
  const pieces: Piece[] = [];
  const push = (source: PieceSource, since: number, until: number, offsetMs: number) => {
    if (since >= until) return;
    const last = pieces[pieces.length - 1];
    if (last && last.source === source && last.offsetMs === offsetMs && last.until === since) last.until = until;
    else pieces.push({ source, since, until, offsetMs });
  };
  /** Whole hours from the hourly rollups where they cover them, raw rows elsewhere. */
  const pushHours = (since: number, until: number, offsetMs: number) => {
    const covered = input.hourly;
    if (covered === null) return push("raw", since, until, offsetMs);
    const from = Math.min(Math.max(since, covered.from), until);
    const to = Math.max(Math.min(until, covered.to), from);
    push("raw", since, from, offsetMs);
    push("hour", from, to, offsetMs);
    push("raw", to, until, offsetMs);
  };
  /**
   * One segment lies inside one bucket: its whole UTC days from the daily rollups, its other
   * whole hours from the hourly ones, its partial hours at either end from raw rows.
   */
  const coverSegment = (since: number, until: number, offsetMs: number) => {
    const firstHour = Math.ceil(since / HOUR_MS) * HOUR_MS;
    const lastHour = Math.floor(until / HOUR_MS) * HOUR_MS;
    if (input.exact || (!input.dailyRollups && input.hourly === null) || firstHour >= lastHour) return push("raw", since, until, offsetMs);
    push("raw", since, firstHour, offsetMs);
    const firstDay = Math.ceil(firstHour / DAY_MS) * DAY_MS;
    const lastDay = Math.floor(lastHour / DAY_MS) * DAY_MS;
    if (input.dailyRollups && firstDay < lastDay) {
      pushHours(firstHour, firstDay, offsetMs);
      push("day", firstDay, lastDay, offsetMs);
      pushHours(lastDay, lastHour, offsetMs);
    } else {
      pushHours(firstHour, lastHour, offsetMs);
    }
    push("raw", lastHour, until, offsetMs);
  };
  // Without time buckets the zone changes nothing: instants are instants.
  const spans = input.units.length === 0 ? [{ since: input.since, until: input.until, offsetMs: 0 }] : offsetSpans(input.timeZone, input.since, input.until);
  for (const span of spans) {
    const starts = new Set<number>();
    for (const unit of input.units) for (const start of bucketStarts(unit, span.since, span.until, span.offsetMs)) starts.add(start);
    const cuts = [span.since, ...[...starts].sort((a, b) => a - b), span.until];
    for (let i = 0; i + 1 < cuts.length; i++) coverSegment(cuts[i]!, cuts[i + 1]!, span.offsetMs);
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
