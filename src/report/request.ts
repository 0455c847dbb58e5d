/**
 * A report asked for in words: the options the CLI's flags and the HTTP API's query string
 * both carry (`by`, `since`, `until`, `tz`, filters, `sort`, `limit`, `exact`), read into a
 * spec here once, so `tally report --json` and `GET /api/v1/reports/usage` cannot drift apart.
 */
import { TOOL_SORT_FIELDS, USAGE_SORT_FIELDS } from "./arrange.ts";
import {
  DEGRADATION_DIMENSIONS,
  TOOL_DIMENSIONS,
  USAGE_DIMENSIONS,
  type DegradationsReportSpec,
  type Report,
  type ReportSpec,
  type TimeRange,
  type ToolsReportSpec,
  type UsageReportSpec,
} from "./spec.ts";
import { parseTime, TimeParseError } from "./time-range.ts";
import { resolveTimeZone, TimeZoneError } from "./time-zone.ts";

export type ReportKind = ReportSpec["kind"];

/** Option values as text; lists may repeat and hold comma-separated parts (`by`). */
export interface ReportOptionValues {
  by?: readonly string[];
  since?: string;
  until?: string;
  tz?: string;
  sort?: string;
  limit?: string;
  exact?: boolean;
  /** false: no p50/p95 (faster; usage and tools). */
  percentiles?: boolean;
  /** Filter lists by option name (`repo`, `model`, `event`, `conclusion`, `tool`, `server`). */
  filters?: Readonly<Record<string, readonly string[] | undefined>>;
}

/** A wrong option, named, with a hint: the CLI's usage error, the API's 400. */
export class ReportOptionError extends Error {
  override readonly name = "ReportOptionError";
  constructor(
    message: string,
    readonly option: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Each kind's allow-lists: dimensions, its default grouping, filters (option → spec field) and sort fields. */
export const REPORT_OPTIONS = {
  usage: {
    dimensions: USAGE_DIMENSIONS,
    defaultBy: ["day"],
    filters: { repo: "repos", model: "models", event: "events", conclusion: "conclusions" },
    sortFields: Object.keys(USAGE_SORT_FIELDS),
  },
  tools: {
    dimensions: TOOL_DIMENSIONS,
    defaultBy: ["tool", "server"],
    filters: { tool: "tools", server: "servers" },
    sortFields: Object.keys(TOOL_SORT_FIELDS),
  },
  degradations: {
    dimensions: DEGRADATION_DIMENSIONS,
    defaultBy: ["repo"],
    filters: { repo: "repos" },
    sortFields: [],
  },
} as const satisfies Record<ReportKind, { dimensions: readonly string[]; defaultBy: readonly string[]; filters: Record<string, string>; sortFields: readonly string[] }>;

/** The longest filter pattern accepted; longer ones are mistakes or attacks. */
const MAX_PATTERN_LENGTH = 1024;
/** Patterns per filter; each becomes a bound parameter. */
const MAX_PATTERNS = 100;

type SpecOf<K extends ReportKind> = K extends "usage" ? UsageReportSpec : K extends "tools" ? ToolsReportSpec : DegradationsReportSpec;

/** Where "now" is and the zone used when the request names none. */
export interface ReportRequestContext {
  now: number;
  defaultTimeZone: string;
  /** How errors name an option: `--since` on the command line. @default the bare name */
  optionLabel?: (option: string) => string;
}

/** Reads the options of a `kind` report into its spec. Throws {@link ReportOptionError}. */
export function readReportSpec<K extends ReportKind>(kind: K, values: ReportOptionValues, context: ReportRequestContext): SpecOf<K> {
  const options = REPORT_OPTIONS[kind];
  const label = context.optionLabel ?? ((option: string) => option);
  const timeZone = values.tz === undefined ? context.defaultTimeZone : readZone(values.tz);
  const range = readRange(values, context.now, timeZone, label);
  const groupBy = readGroupBy(values.by, options.dimensions, options.defaultBy, label);
  const filters: Record<string, string[]> = {};
  for (const [option, field] of Object.entries(options.filters)) {
    const list = readPatterns(option, values.filters?.[option], label);
    if (list !== undefined) filters[field] = list;
  }
  const spec: Record<string, unknown> = { kind, groupBy, range, timeZone, filters };
  if (kind !== "degradations") {
    if (values.sort !== undefined) {
      if (!(options.sortFields as readonly string[]).includes(values.sort)) {
        throw new ReportOptionError(`cannot sort by '${values.sort}'`, "sort", `${label("sort")} takes ${options.sortFields.join(", ")}`);
      }
      spec.sort = values.sort;
    }
    if (values.limit !== undefined) spec.limit = readLimit(values.limit, label);
    spec.exact = values.exact === true;
    if (values.percentiles === false) spec.percentiles = false;
  } else {
    if (values.exact === true) spec.exact = true;
    if (values.percentiles === false) throw new ReportOptionError("the degradations report has no percentiles to leave out", "percentiles");
    for (const option of ["sort", "limit"] as const) {
      if (values[option] !== undefined) throw new ReportOptionError(`the degradations report takes no ${label(option)}`, option);
    }
  }
  return spec as unknown as SpecOf<K>;
}

/**
 * The time window of a listing (runs, tool calls, sessions): `since`/`until` read as a report
 * reads them, in `tz` or the default zone. Throws {@link ReportOptionError}.
 */
export function readTimeRange(values: Pick<ReportOptionValues, "since" | "until" | "tz">, context: ReportRequestContext): TimeRange {
  const timeZone = values.tz === undefined ? context.defaultTimeZone : readZone(values.tz);
  return readRange(values, context.now, timeZone, context.optionLabel ?? ((option: string) => option));
}

function readZone(name: string): string {
  try {
    return resolveTimeZone(name);
  } catch (error) {
    if (error instanceof TimeZoneError) throw new ReportOptionError(error.message, "tz", "an IANA zone such as Europe/Berlin (see `timedatectl list-timezones`), or UTC");
    throw error;
  }
}

type Label = (option: string) => string;

function readRange(values: Pick<ReportOptionValues, "since" | "until">, now: number, timeZone: string, label: Label): TimeRange {
  const range: TimeRange = {};
  const time = { now, timeZone };
  for (const option of ["since", "until"] as const) {
    const text = values[option];
    if (text === undefined) continue;
    try {
      range[option] = parseTime(text, time, option === "until" ? { endOfDay: true } : {});
    } catch (error) {
      if (error instanceof TimeParseError) throw new ReportOptionError(error.message, option);
      throw error;
    }
  }
  if (range.since !== undefined && range.until !== undefined && range.since >= range.until) {
    throw new ReportOptionError(`${label("since")} must be before ${label("until")}`, "since");
  }
  return range;
}

function readGroupBy(raw: readonly string[] | undefined, allowed: readonly string[], fallback: readonly string[], label: Label): string[] {
  const parts = (raw ?? []).flatMap((v) => v.split(",")).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return [...fallback];
  for (const part of parts) {
    if (!allowed.includes(part)) throw new ReportOptionError(`cannot group by '${part.slice(0, 64)}'`, "by", `${label("by")} takes ${allowed.join(", ")} (comma-separated)`);
  }
  return [...new Set(parts)];
}

function readPatterns(option: string, raw: readonly string[] | undefined, label: Label): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.filter((v) => v.length > 0);
  if (list.some((v) => v.length > MAX_PATTERN_LENGTH)) throw new ReportOptionError(`${label(option)} value is too long (at most ${MAX_PATTERN_LENGTH} characters)`, option);
  if (list.length > MAX_PATTERNS) throw new ReportOptionError(`at most ${MAX_PATTERNS} ${label(option)} patterns`, option);
  return list.length > 0 ? list : undefined;
}

function readLimit(text: string, label: Label): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) throw new ReportOptionError(`${label("limit")} takes a positive whole number, not '${text.slice(0, 32)}'`, "limit");
  return Number(text);
}

/** A window as JSON: its ends as ISO instants (UTC; null when open) and its zone. */
function rangeJson(range: TimeRange, timeZone: string): { since: string | null; until: string | null; timeZone: string } {
  return {
    since: range.since === undefined ? null : new Date(range.since).toISOString(),
    until: range.until === undefined ? null : new Date(range.until).toISOString(),
    timeZone,
  };
}

/**
 * A report as `--json` prints it and the API returns it: the report's own fields with the
 * zone stated once, in `range: { since, until, timeZone }`.
 */
export function reportJson<S extends ReportSpec>(report: Report<S>): Omit<Report<S>, "timeZone" | "range"> & { range: ReturnType<typeof rangeJson> } {
  const { timeZone, ...rest } = report as Report<S> & { timeZone: string; range: TimeRange };
  return { ...(rest as Omit<Report<S>, "timeZone" | "range">), range: rangeJson(rest.range, timeZone) };
}
