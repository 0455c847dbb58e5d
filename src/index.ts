/**
 * Tally: embedded-first telemetry for AI agent services. The root entry loads no database
 * driver; stores live behind subpaths (`tally/sqlite`, …).
 * @module tally
 */
export { createTelemetry, type Telemetry, type TelemetryOptions, type TelemetryStats } from "./core/telemetry.ts";
export type {
  Attributes,
  CacheEventRecord,
  CacheOutcome,
  ExecutionRecord,
  RateLimitEventRecord,
  RecordBase,
  SessionOptions,
  TimeInput,
  ToolCallOutcome,
  ToolCallRecord,
} from "./core/records.ts";
export type {
  Batch,
  CacheEventRow,
  CostSource,
  ExecutionRow,
  RateLimitEventRow,
  RecordKind,
  SessionEndRow,
  SessionStartRow,
  StoredRecord,
  ToolCallRow,
} from "./core/rows.ts";
export type { MaybePromise, Store, WriteResult } from "./core/store.ts";
// Types only (erased at build): what `store.report(spec)` takes and returns, for any store.
export type { ReadableStore } from "./report/readable-store.ts";
export type {
  CacheRow,
  DegradationRow,
  DegradationsReport,
  DegradationsReportSpec,
  Report,
  ReportSpec,
  TimeRange,
  ToolRow,
  ToolsReport,
  ToolsReportSpec,
  UsageReport,
  UsageReportSpec,
  UsageRow,
} from "./report/spec.ts";
export type { Clock, TimerHandle } from "./core/clock.ts";
export { createSystemClock } from "./core/clock.ts";
/**
 * Where a telemetry keeps what integrations hold open (sessions, running calls and runs) for
 * `shutdown()` to record first. A wrapper around a Telemetry (a guard, a fan-out) should carry
 * `[OPEN_WORK]: inner[OPEN_WORK]`, or what it hands to integrations is not closed at shutdown.
 */
export { OPEN_WORK, type OpenWork, type OpenWorkRegistry } from "./core/open-work.ts";
export type { Logger } from "./core/logger.ts";
export { TallyConfigError } from "./core/errors.ts";
export { InvalidRecordError } from "./core/validate.ts";
export { LIMITS } from "./core/limits.ts";
export { createPricer, type Pricer, type PricerOptions, type PricedUsage } from "./pricing/pricer.ts";
export type { CustomPrice, CustomPrices } from "./pricing/custom-prices.ts";
