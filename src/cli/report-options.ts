import type { TimeRange } from "../report/spec.ts";
import { parseTime, TimeParseError } from "../report/time-range.ts";
import { localIso, resolveTimeZone, TimeZoneError } from "../report/time-zone.ts";
import type { CommandContext, FlagSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

/** --since / --until / --tz, shared by every report. */
export const RANGE_FLAGS: Record<string, FlagSpec> = {
  since: { type: "string", valueName: "WHEN", description: "from: 7d (the last 7 × 24 h), 12h, 90m, today, yesterday, 2026-11-01, 2026-11-01T10:00, or an ISO time with offset" },
  until: { type: "string", valueName: "WHEN", description: "to, excluded (a date, today or yesterday includes that whole day)" },
  tz: { type: "string", valueName: "ZONE", description: "IANA time zone where dates, hours, days, weeks and months begin (default: $TZ, else the machine's zone; UTC works)" },
};

export const LIST_FLAGS: Record<string, FlagSpec> = {
  sort: { type: "string", valueName: "FIELD", description: "sort rows by this field, largest first (default: by group)" },
  limit: { type: "string", valueName: "N", description: "show at most N rows (totals still cover all)" },
};

/** A report's time window as the command line gave it: a half-open range and the zone of its buckets. */
export interface ReportWindowOptions {
  range: TimeRange;
  timeZone: string;
}

/** --tz, else $TZ when it names an IANA zone (`:Europe/Berlin` too), else the machine's zone. */
export function readTimeZone(context: CommandContext): string {
  const flag = context.values.tz;
  if (typeof flag === "string") {
    try {
      return resolveTimeZone(flag);
    } catch (error) {
      if (error instanceof TimeZoneError) throw new UsageError(error.message, "see `timedatectl list-timezones`, or use UTC");
      throw error;
    }
  }
  const env = context.io.env.TZ?.replace(/^:/, "");
  if (env) {
    try {
      return resolveTimeZone(env);
    } catch {
      // A POSIX rule such as `EST5EDT,M3.2.0,M11.1.0` or a file path: the runtime's own reading of it.
    }
  }
  try {
    return resolveTimeZone(context.io.timeZone());
  } catch {
    return "UTC";
  }
}

/** Reads --since/--until (in the report's zone) into a half-open range; bad values are usage errors. */
export function readWindow(context: CommandContext): ReportWindowOptions {
  const timeZone = readTimeZone(context);
  const time = { now: context.io.now(), timeZone };
  const range: TimeRange = {};
  try {
    if (typeof context.values.since === "string") range.since = parseTime(context.values.since, time);
    if (typeof context.values.until === "string") range.until = parseTime(context.values.until, time, { endOfDay: true });
  } catch (error) {
    if (error instanceof TimeParseError) throw new UsageError(error.message);
    throw error;
  }
  if (range.since !== undefined && range.until !== undefined && range.since >= range.until) {
    throw new UsageError("--since must be before --until");
  }
  return { range, timeZone };
}

/** Reads a comma-separated, repeatable --by into dimensions from an allow-list. */
export function readGroupBy<D extends string>(context: CommandContext, allowed: readonly D[], fallback: D[]): D[] {
  const raw = context.values.by;
  const parts = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(",")).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return fallback;
  for (const part of parts) {
    if (!allowed.includes(part as D)) throw new UsageError(`cannot group by '${part}'`, `--by takes ${allowed.join(", ")} (comma-separated)`);
  }
  return [...new Set(parts)] as D[];
}

/** A repeatable string flag as a list (undefined when absent). */
export function readList(context: CommandContext, name: string): string[] | undefined {
  const raw = context.values[name];
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).map(String).filter((v) => v.length > 0);
  if (list.some((v) => v.length > 1024)) throw new UsageError(`--${name} value is too long`);
  return list.length > 0 ? list : undefined;
}

/**
 * Reads --sort (a field from the report's allow-list) and --limit (a positive whole number)
 * into the report spec's `sort` and `limit`. Called before the database is opened, so a bad
 * value is a usage error (exit 2) whatever state the file is in.
 */
export function readSortAndLimit<F extends string>(context: CommandContext, fields: Record<F, unknown>): { sort?: F; limit?: number } {
  const sort = context.values.sort;
  if (typeof sort === "string" && !Object.hasOwn(fields, sort)) {
    throw new UsageError(`cannot sort by '${sort}'`, `--sort takes ${Object.keys(fields).join(", ")}`);
  }
  const limit = context.values.limit;
  if (typeof limit === "string" && (!/^\d{1,9}$/.test(limit) || Number(limit) === 0)) {
    throw new UsageError(`--limit takes a positive whole number, not '${limit}'`);
  }
  return {
    ...(typeof sort === "string" ? { sort: sort as F } : {}),
    ...(typeof limit === "string" ? { limit: Number(limit) } : {}),
  };
}

/** Terminal width for tables; unlimited when not a terminal (pipes get every column). */
export function tableWidth(context: CommandContext): number | undefined {
  return context.io.stdout.isTTY ? (context.io.stdout.columns ?? 100) : undefined;
}

/** A window as JSON: its ends as ISO instants (UTC; null when open) and its zone. */
export function rangeJson(window: ReportWindowOptions): { since: string | null; until: string | null; timeZone: string } {
  const { range, timeZone } = window;
  return {
    since: range.since === undefined ? null : new Date(range.since).toISOString(),
    until: range.until === undefined ? null : new Date(range.until).toISOString(),
    timeZone,
  };
}

/** The line above a table that says what it covers: `2026-11-15 16:30 +01:00 → now (Europe/Berlin)`. */
export function rangeLine(window: ReportWindowOptions): string {
  const { range, timeZone } = window;
  const at = (ms: number) => {
    const iso = localIso(timeZone, ms);
    const time = iso.slice(11, 19);
    const offset = iso.slice(23);
    return `${iso.slice(0, 10)} ${time.endsWith(":00") ? time.slice(0, 5) : time} ${offset === "Z" ? "UTC" : offset}`;
  };
  if (range.since === undefined && range.until === undefined) return `All time (${timeZone})\n`;
  const since = range.since === undefined ? "the first record" : at(range.since);
  const until = range.until === undefined ? "now" : at(range.until);
  return `${since} → ${until} (${timeZone})\n`;
}

/** A report for JSON output: its zone is stated once, in `range`. */
export function withoutZone<R extends { timeZone: string }>(report: R): Omit<R, "timeZone"> {
  const { timeZone: _, ...rest } = report;
  return rest;
}

/** The note under a table whose range reaches into purged raw rows (see `rawRowsPurgedBefore`). */
export function purgedNote(rawRowsPurgedBefore: string | null): string {
  if (rawRowsPurgedBefore === null) return "";
  return (
    `\n! Raw rows before ${rawRowsPurgedBefore} were purged; the parts of this range before then that are not whole\n` +
    `  rollup days had to come from them, so they count less than happened. Whole days are exact.\n`
  );
}
