import { readReportSpec, REPORT_OPTIONS, ReportOptionError, type ReportKind, type ReportOptionValues } from "../report/request.ts";
import type { TimeRange } from "../report/spec.ts";
import { localIso, resolveTimeZone } from "../report/time-zone.ts";
import type { CommandContext, FlagSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

/** --since / --until / --tz, shared by every report. */
export const RANGE_FLAGS: Record<string, FlagSpec> = {
  since: { type: "string", valueName: "WHEN", description: "from: 7d (the last 7 × 24 h), 12h, 90m, today, yesterday, 2026-11-01, 2026-11-01T10:00, or an ISO time with offset" },
  until: { type: "string", valueName: "WHEN", description: "to, excluded (a date, today or yesterday includes that whole day)" },
  tz: { type: "string", valueName: "ZONE", description: "IANA time zone where dates, hours, days, weeks and months begin (default: $TZ, else the machine's zone; UTC works)" },
};

export const LIST_FLAGS: Record<string, FlagSpec> = {
  "no-percentiles": { type: "boolean", description: "leave p50/p95 out (faster over long ranges of busy databases)" },
  sort: { type: "string", valueName: "FIELD", description: "sort rows by this field, largest first (default: by group)" },
  limit: { type: "string", valueName: "N", description: "show at most N rows (totals still cover all)" },
};

/** $TZ when it names an IANA zone (`:Europe/Berlin` too), else the machine's zone: where --tz defaults to. */
function defaultTimeZone(context: CommandContext): string {
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

/** A repeatable string flag as a list (undefined when absent). */
function flagList(context: CommandContext, name: string): string[] | undefined {
  const raw = context.values[name];
  if (raw === undefined) return undefined;
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

/**
 * Reads a report's flags into its spec with the same reader the HTTP API uses
 * (`src/report/request.ts`). Called before the database is opened, so a bad value is a usage
 * error (exit 2) whatever state the file is in.
 */
export function readSpec<K extends ReportKind>(context: CommandContext, kind: K): ReturnType<typeof readReportSpec<K>> {
  const text = (name: string) => (typeof context.values[name] === "string" ? (context.values[name] as string) : undefined);
  const filters: Record<string, string[] | undefined> = {};
  for (const option of Object.keys(REPORT_OPTIONS[kind].filters)) filters[option] = flagList(context, option);
  const values: ReportOptionValues = {
    by: flagList(context, "by"),
    since: text("since"),
    until: text("until"),
    tz: text("tz"),
    sort: text("sort"),
    limit: text("limit"),
    exact: context.values.exact === true,
    percentiles: context.values["no-percentiles"] !== true,
    filters,
  };
  try {
    return readReportSpec(kind, values, { now: context.io.now(), defaultTimeZone: defaultTimeZone(context), optionLabel: (option) => `--${option}` });
  } catch (error) {
    if (error instanceof ReportOptionError) throw new UsageError(error.message, error.hint);
    throw error;
  }
}

/** Terminal width for tables; unlimited when not a terminal (pipes get every column). */
export function tableWidth(context: CommandContext): number | undefined {
  return context.io.stdout.isTTY ? (context.io.stdout.columns ?? 100) : undefined;
}

/** The line above a table that says what it covers: `2026-11-15 16:30 +01:00 → now (Europe/Berlin)`. */
export function rangeLine(window: { range: TimeRange; timeZone?: string }): string {
  const range = window.range;
  const timeZone = window.timeZone ?? "UTC";
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

/** The note under a table whose range reaches into purged raw rows (see `rawRowsPurgedBefore`). */
export function purgedNote(rawRowsPurgedBefore: string | null): string {
  if (rawRowsPurgedBefore === null) return "";
  return (
    `\n! Raw rows before ${rawRowsPurgedBefore} were purged; the parts of this range before then that are not whole\n` +
    `  rollup days had to come from them, so they count less than happened. Whole days are exact.\n`
  );
}
