import type { TimeRange } from "../report/spec.ts";
import { parseTime, TimeParseError } from "../report/time-range.ts";
import type { CommandContext, FlagSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

/** --since / --until, shared by every report. */
export const RANGE_FLAGS: Record<string, FlagSpec> = {
  since: { type: "string", valueName: "WHEN", description: "from: 7d (last 7 days), 12h, 2026-11-01, or an ISO time" },
  until: { type: "string", valueName: "WHEN", description: "to (a date includes that whole day)" },
};

export const LIST_FLAGS: Record<string, FlagSpec> = {
  sort: { type: "string", valueName: "FIELD", description: "sort rows by this field, largest first (default: by group)" },
  limit: { type: "string", valueName: "N", description: "show at most N rows (totals still cover all)" },
};

/** Reads --since/--until into a half-open range; bad values are usage errors. */
export function readRange(context: CommandContext): TimeRange {
  const now = context.io.now();
  const range: TimeRange = {};
  try {
    if (typeof context.values.since === "string") range.since = parseTime(context.values.since, now);
    if (typeof context.values.until === "string") range.until = parseTime(context.values.until, now, { endOfDay: true });
  } catch (error) {
    if (error instanceof TimeParseError) throw new UsageError(error.message);
    throw error;
  }
  if (range.since !== undefined && range.until !== undefined && range.since >= range.until) {
    throw new UsageError("--since must be before --until");
  }
  return range;
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
 * Reads --sort (a field from the allow-list) and --limit (a positive whole number) into a
 * function that orders and cuts rows. Called before the database is opened, so a bad value
 * is a usage error (exit 2) whatever state the file is in.
 */
export function readSortAndLimit<R>(context: CommandContext, fields: Record<string, (row: R) => number>): (rows: R[]) => R[] {
  const sort = context.values.sort;
  const key = typeof sort === "string" ? fields[sort] : undefined;
  if (typeof sort === "string" && !key) throw new UsageError(`cannot sort by '${sort}'`, `--sort takes ${Object.keys(fields).join(", ")}`);
  const limit = context.values.limit;
  if (typeof limit === "string" && (!/^\d{1,9}$/.test(limit) || Number(limit) === 0)) {
    throw new UsageError(`--limit takes a positive whole number, not '${limit}'`);
  }
  return (rows) => {
    const sorted = key ? [...rows].sort((a, b) => key(b) - key(a)) : rows;
    return typeof limit === "string" ? sorted.slice(0, Number(limit)) : sorted;
  };
}

/** Terminal width for tables; unlimited when not a terminal (pipes get every column). */
export function tableWidth(context: CommandContext): number | undefined {
  return context.io.stdout.isTTY ? (context.io.stdout.columns ?? 100) : undefined;
}

/** A range as ISO strings, for JSON output. */
export function rangeJson(range: TimeRange): { since: string | null; until: string | null } {
  return {
    since: range.since === undefined ? null : new Date(range.since).toISOString(),
    until: range.until === undefined ? null : new Date(range.until).toISOString(),
  };
}
