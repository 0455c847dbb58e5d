import { DAY_MS, HOUR_MS } from "../core/time-units.ts";
import { instantOfWallTime, offsetAt, startOfLocalDay } from "./time-zone.ts";

/** Milliseconds in each unit of `7d`, `12h`, `90m`. */
const UNIT_MS = { d: DAY_MS, h: HOUR_MS, m: 60_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Why a time could not be read; the CLI turns it into a usage error. */
export class TimeParseError extends Error {
  override readonly name = "TimeParseError";
}

/** Where and when a time is read: the report's zone and its "now". */
export interface TimeContext {
  now: number;
  /** IANA zone where dates, `today` and `yesterday` begin. */
  timeZone: string;
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/** A calendar date (`2026-02-30` is not one) as a UTC-encoded wall time at midnight. */
function calendarDate(text: string, year: string, month: string, day: string): number {
  const wall = Date.UTC(Number(year), Number(month) - 1, Number(day));
  if (new Date(wall).toISOString().slice(0, 10) !== `${year}-${month}-${day}`) throw new TimeParseError(`'${text}' is not a calendar date`);
  return wall;
}

/**
 * Reads a time for --since / --until, as people mean it:
 * - `7d`, `12h`, `90m`: exactly that long before now (rolling: `7d` is the last 7 × 24 hours);
 * - `today`, `yesterday`: midnight starting that day in the zone; with `endOfDay`, the
 *   midnight ending it (so `--until yesterday` includes yesterday);
 * - `2026-11-01`: midnight starting that day in the zone; with `endOfDay`, the next midnight;
 * - `2026-11-01T10:00` (no offset): that wall time in the zone;
 * - `2026-11-01T10:00:00Z`, `…+01:00`: that instant.
 * A day is a calendar day: 23 or 25 hours when daylight saving starts or ends.
 */
export function parseTime(text: string, context: TimeContext, options: { endOfDay?: boolean } = {}): number {
  const value = text.trim();
  const { now, timeZone } = context;
  const relative = /^(\d{1,5})([dhm])$/.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    if (amount === 0) throw new TimeParseError(`'${text}' is empty: use 1d for the last 24 hours, or today`);
    return now - amount * UNIT_MS[relative[2] as Unit];
  }
  if (value === "today" || value === "yesterday") {
    const today = startOfLocalDay(timeZone, now);
    const day = value === "today" ? today : startOfLocalDay(timeZone, today - HOUR_MS);
    return options.endOfDay ? nextLocalMidnight(timeZone, day) : day;
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (date) {
    const wall = calendarDate(text, date[1]!, date[2]!, date[3]!);
    return instantOfWallTime(timeZone, options.endOfDay ? wall + DAY_MS : wall);
  }
  const local = LOCAL_DATE_TIME.exec(value);
  if (local) {
    const [, y, mo, d, h, mi, s, fraction] = local;
    const wall = calendarDate(text, y!, mo!, d!) + Number(h) * HOUR_MS + Number(mi) * 60_000 + Number(s ?? 0) * 1000 + Number((fraction ?? "0").padEnd(3, "0"));
    if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) throw new TimeParseError(`'${text}' is not a time of day`);
    return instantOfWallTime(timeZone, wall);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeParseError(`cannot read '${text}' as a time: use 7d, 12h, today, yesterday, 2026-11-01 or 2026-11-01T10:00:00Z`);
}

/** The midnight ending the local day that starts at `dayStart`. */
function nextLocalMidnight(timeZone: string, dayStart: number): number {
  const wall = dayStart + offsetAt(timeZone, dayStart);
  return instantOfWallTime(timeZone, wall + DAY_MS);
}

/** Reads a duration like `90d`, `12h` into milliseconds (for --older-than). */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (!match) throw new TimeParseError(`cannot read '${text}' as a duration: use 90d, 12h or 30m`);
  return Number(match[1]) * UNIT_MS[match[2] as Unit];
}
