/**
 * Time zones for reports: where a zone's days, weeks and months begin, from the IANA database
 * the runtime carries (Intl), with no dependency and no runtime module.
 */
import { DAY_MS, HOUR_MS } from "../core/time-units.ts";

/** Why a time zone name was refused; the CLI turns it into a usage error. */
export class TimeZoneError extends Error {
  override readonly name = "TimeZoneError";
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Names already resolved: each resolution builds a formatter (~0.3 ms), and every report resolves its zone. */
const resolved = new Map<string, string>();

/** The zone's canonical IANA name (`utc` → `UTC`); throws TimeZoneError for an unknown one. */
export function resolveTimeZone(name: string): string {
  const known = resolved.get(name);
  if (known !== undefined) return known;
  if (name.length === 0 || name.length > 64) throw new TimeZoneError(`'${name.slice(0, 64)}' is not a time zone: use an IANA name such as UTC or Europe/Berlin`);
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new TimeZoneError(`'${name}' is not a time zone: use an IANA name such as UTC, Europe/Berlin or Asia/Kolkata`);
  }
  if (resolved.size >= 1024) resolved.clear(); // names come from requests: bounded
  resolved.set(name, canonical);
  return canonical;
}

/** Milliseconds the zone's wall clock is ahead of UTC at `ms` (+05:30 → 19,800,000). */
export function offsetAt(zone: string, ms: number): number {
  if (zone === "UTC") return 0;
  const parts = formatterFor(zone).formatToParts(new Date(ms));
  const field = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"), field("second"));
  // The wall clock shows whole seconds: compare with the instant's whole second.
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/** The instant the zone's wall clock shows `wallMs` (a UTC-encoded local time); the later one when a gap or overlap makes it ambiguous. */
export function instantOfWallTime(zone: string, wallMs: number): number {
  let guess = wallMs - offsetAt(zone, wallMs);
  for (let i = 0; i < 3; i++) {
    const next = wallMs - offsetAt(zone, guess);
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

/** Local midnight that starts the zone's day holding `ms`. */
export function startOfLocalDay(zone: string, ms: number): number {
  const wall = ms + offsetAt(zone, ms);
  return instantOfWallTime(zone, Math.floor(wall / DAY_MS) * DAY_MS);
}

/** A span of constant offset: [since, until) with `offsetMs`. */
export interface OffsetSpan {
  since: number;
  until: number;
  offsetMs: number;
}

/**
 * Offsets change at most a few times a year, never twice within a week (the closest pairs in
 * the IANA database, Morocco's around Ramadan, are about a month apart): checking weekly finds
 * each change, then bisection pins it to the millisecond. ~40 checks for a 9-month range.
 */
const SCAN_STEP_MS = 7 * DAY_MS;

/** [since, until) cut where the zone's offset changes (daylight saving, a zone's new rules). */
export function offsetSpans(zone: string, since: number, until: number): OffsetSpan[] {
  if (since >= until) return [];
  if (zone === "UTC") return [{ since, until, offsetMs: 0 }];
  const spans: OffsetSpan[] = [];
  let start = since;
  let offset = offsetAt(zone, since);
  for (let probe = since + SCAN_STEP_MS; ; probe += SCAN_STEP_MS) {
    const at = Math.min(probe, until - 1);
    const next = offsetAt(zone, at);
    if (next !== offset) {
      // The change lies in (at - step, at]: the first millisecond with the new offset.
      let lo = Math.max(start, at - SCAN_STEP_MS);
      let hi = at;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (offsetAt(zone, mid) === offset) lo = mid;
        else hi = mid;
      }
      spans.push({ since: start, until: hi, offsetMs: offset });
      start = hi;
      offset = offsetAt(zone, hi);
      probe = hi;
    }
    if (at >= until - 1) break;
  }
  spans.push({ since: start, until, offsetMs: offset });
  return spans;
}

/** `+05:30`, `-08:00`, `Z` for UTC. */
export function formatOffset(offsetMs: number): string {
  if (offsetMs === 0) return "Z";
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  return `${offsetMs < 0 ? "-" : "+"}${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** An instant as the zone's local ISO time with its offset: `2026-11-22T14:00:00.000+01:00`. */
export function localIso(zone: string, ms: number): string {
  const offset = offsetAt(zone, ms);
  return `${new Date(ms + offset).toISOString().slice(0, 23)}${formatOffset(offset)}`;
}
