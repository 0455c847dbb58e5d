import { TallyConfigError } from "../core/errors.ts";
import { checkArrangement, TOOL_SORT_FIELDS, USAGE_SORT_FIELDS } from "./arrange.ts";
import { degradationsReport } from "./degradations.ts";
import type { Report, ReportSpec } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ReportProgram } from "./sql/query.ts";
import { resolveTimeZone, TimeZoneError } from "./time-zone.ts";
import { toolsReport } from "./tools.ts";
import { usageReport } from "./usage.ts";

/**
 * The program that answers `spec` in a store's dialect. A store runs it (`runProgram`);
 * a spec a caller got wrong (unknown kind, unknown zone) throws TallyConfigError here.
 */
export function reportProgram<S extends ReportSpec>(dialect: SqlDialect, spec: S): ReportProgram<Report<S>> {
  let timeZone: string;
  try {
    timeZone = resolveTimeZone(spec.timeZone ?? "UTC");
  } catch (error) {
    if (error instanceof TimeZoneError) throw new TallyConfigError(error.message, { cause: error });
    throw error;
  }
  const resolved = { ...spec, timeZone };
  if (resolved.kind === "usage") checkArrangement(USAGE_SORT_FIELDS, resolved.sort, resolved.limit);
  if (resolved.kind === "tools") checkArrangement(TOOL_SORT_FIELDS, resolved.sort, resolved.limit);
  switch (resolved.kind) {
    case "usage":
      return usageReport(dialect, resolved) as ReportProgram<Report<S>>;
    case "tools":
      return toolsReport(dialect, resolved) as ReportProgram<Report<S>>;
    case "degradations":
      return degradationsReport(dialect, resolved) as ReportProgram<Report<S>>;
  }
  throw new TallyConfigError(`unknown report kind ${String((spec as { kind?: unknown }).kind)}`);
}
