/**
 * How a report reads a time range, decided without knowing the store: which parts come from
 * rollup rows (whole UTC days) and which from raw rows (the partial edges), so that every
 * count and sum equals a scan of the raw rows, for any range and any time zone.
 */
import { DAY_MS, HOUR_MS, offsetSpans } from "./time-zone.ts";

/** Time buckets a report can group by. */
export type TimeUnit = "hour" | "day" | "week" | "month";

/** Where a piece of the range is read from. */
export type PieceSource = "raw" | "day";

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
  /** Whether the source has daily rollups at all (some reports only have raw rows). */
  dailyRollups: boolean;
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
 * then reads each part from whole UTC days of the rollups where it holds any, and from raw
 * rows for the rest. Adjacent pieces of one source and offset are merged.
 */
export function planPieces(input: PlanInput): Piece[] {
  const pieces: Piece[] = [];
  const push = (source: PieceSource, since: number, until: number, offsetMs: number) => {
    if (since >= until) return;
    const last = pieces[pieces.length - 1];
    if (last && last.source === source && last.offsetMs === offsetMs && last.until === since) last.until = until;
    else pieces.push({ source, since, until, offsetMs });
  };
  // Without time buckets the zone changes nothing: instants are instants.
  const spans = input.units.length === 0 ? [{ since: input.since, until: input.until, offsetMs: 0 }] : offsetSpans(input.timeZone, input.since, input.until);
  for (const span of spans) {
    const starts = new Set<number>();
    for (const unit of input.units) for (const start of bucketStarts(unit, span.since, span.until, span.offsetMs)) starts.add(start);
    const cuts = [span.since, ...[...starts].sort((a, b) => a - b), span.until];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const since = cuts[i]!;
      const until = cuts[i + 1]!;
      // A whole UTC day inside one bucket can come from the daily rollups; the rest is raw.
      const firstDay = Math.ceil(since / DAY_MS) * DAY_MS;
      const lastDay = Math.floor(until / DAY_MS) * DAY_MS;
      if (input.exact || !input.dailyRollups || firstDay >= lastDay) {
        push("raw", since, until, span.offsetMs);
        continue;
      }
      push("raw", since, firstDay, span.offsetMs);
      push("day", firstDay, lastDay, span.offsetMs);
      push("raw", lastDay, until, span.offsetMs);
    }
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
