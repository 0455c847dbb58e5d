import type { SqliteDriver } from "./driver.ts";
import type { ExecutionRow } from "../../core/rows.ts";
import { BatchWriter } from "./write-batch.ts";

/**
 * Databases written before Tally numbered its schema (user_version 0): the review bot's
 * `executions` and `rate_limit_events`, with INTEGER row ids, ISO-text `created_at`, and a
 * unique index on `delivery_id` alone. SQLite cannot change a column's type in place, so the
 * old tables are renamed to `legacy_*` and kept (nothing is deleted), and their rows are
 * copied into the new tables with deterministic ids (`legacy-<table>-<rowid>`), so a second
 * copy could never count twice.
 */

function tableExists(driver: SqliteDriver, name: string): boolean {
  return driver.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function columnsOf(driver: SqliteDriver, table: string): Set<string> {
  return new Set(driver.prepare(`SELECT name FROM pragma_table_info(?)`).all(table).map((row) => String(row.name)));
}

/** Legacy ISO text ('YYYY-MM-DD HH:MM:SS', UTC) or epoch numbers to epoch milliseconds. */
function epochMsExpression(column: string): string {
  return `CASE typeof(${column})
    WHEN 'text' THEN CAST(round((julianday(${column}) - 2440587.5) * 86400000.0) AS INTEGER)
    WHEN 'integer' THEN CASE WHEN ${column} < 100000000000 THEN ${column} * 1000 ELSE ${column} END
    WHEN 'real' THEN CAST(${column} * CASE WHEN ${column} < 100000000000 THEN 1000 ELSE 1 END AS INTEGER)
    ELSE CAST(strftime('%s', 'now') AS INTEGER) * 1000 END`;
}

interface ColumnMap {
  /** Target column → legacy columns to try in order, and the value when none exists. */
  [target: string]: { from: string[]; fallback: string };
}

const EXECUTION_COLUMNS: ColumnMap = {
  delivery_id: { from: ["delivery_id"], fallback: "NULL" },
  repo: { from: ["repo"], fallback: "''" },
  pr_number: { from: ["pr_number"], fallback: "NULL" },
  event_type: { from: ["event_type"], fallback: "''" },
  provider: { from: ["provider"], fallback: "'anthropic'" },
  model: { from: ["model"], fallback: "'unknown'" },
  input_tokens: { from: ["input_tokens"], fallback: "0" },
  output_tokens: { from: ["output_tokens"], fallback: "0" },
  cache_read_tokens: { from: ["cache_read_tokens"], fallback: "0" },
  cache_creation_tokens: { from: ["cache_creation_tokens"], fallback: "0" },
  duration_ms: { from: ["duration_ms"], fallback: "0" },
  cost_usd: { from: ["cost_usd"], fallback: "0" },
  conclusion: { from: ["conclusion"], fallback: "'unknown'" },
  session_id: { from: ["session_id"], fallback: "NULL" },
  num_turns: { from: ["num_turns"], fallback: "NULL" },
  stop_reason: { from: ["stop_reason"], fallback: "NULL" },
};

const RATE_LIMIT_COLUMNS: ColumnMap = {
  delivery_id: { from: ["delivery_id"], fallback: "NULL" },
  event_type: { from: ["event_type"], fallback: "''" },
  repo: { from: ["repo"], fallback: "''" },
  pr_number: { from: ["pr_number"], fallback: "NULL" },
  execution_id: { from: ["execution_id"], fallback: "NULL" },
  resource: { from: ["resource"], fallback: "'search'" },
  retry_attempts: { from: ["retry_attempts"], fallback: "0" },
  skipped_queries: { from: ["skipped_queries"], fallback: "0" },
  degradation: { from: ["degradation", "degradation_path"], fallback: "'unknown'" },
};

/** Non-negative integer columns must satisfy the new CHECKs even if old rows held junk. */
const COUNT_COLUMNS = new Set([
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_creation_tokens",
  "duration_ms",
  "retry_attempts",
  "skipped_queries",
]);

function copyRows(driver: SqliteDriver, table: string, columns: ColumnMap, constants: Record<string, string> = {}): void {
  const legacy = `legacy_${table}`;
  const present = columnsOf(driver, legacy);
  const targets = Object.keys(columns);
  const used = new Set<string>(["id", "created_at"]);
  const expressions = targets.map((target) => {
    const source = columns[target]!.from.find((c) => present.has(c));
    if (source === undefined) return columns[target]!.fallback;
    used.add(source);
    const value = `"${source}"`;
    if (COUNT_COLUMNS.has(target)) return `max(0, CAST(coalesce(${value}, 0) AS INTEGER))`;
    if (target === "cost_usd") return `max(0, coalesce(${value}, 0))`;
    return columns[target]!.fallback === "NULL" ? value : `coalesce(${value}, ${columns[target]!.fallback})`;
  });
  // Columns the new schema has no place for are kept in `attributes` rather than lost.
  const leftovers = [...present].filter((c) => !used.has(c));
  const attributes = leftovers.length > 0 ? `json_object(${leftovers.map((c) => `'${c}', "${c}"`).join(", ")})` : "NULL";
  const constantColumns = Object.keys(constants).map((c) => `, ${c}`).join("");
  const constantValues = Object.values(constants).map((v) => `, ${v}`).join("");
  driver.exec(`
    INSERT INTO ${table} (id, created_at, ${targets.join(", ")}, attributes${constantColumns})
    SELECT 'legacy-${table}-' || rowid, ${epochMsExpression("created_at")}, ${expressions.join(", ")}, ${attributes}${constantValues}
    FROM ${legacy} ORDER BY rowid
    ON CONFLICT DO NOTHING`);
}

/** Renames pre-schema tables out of the way; returns which were found. */
export function setAsideLegacyTables(driver: SqliteDriver): { executions: boolean; rateLimitEvents: boolean } {
  const found = { executions: tableExists(driver, "executions"), rateLimitEvents: tableExists(driver, "rate_limit_events") };
  // The old delivery-only unique index is what the composite key replaces; it is an index, not data.
  driver.exec("DROP INDEX IF EXISTS idx_rate_limit_events_delivery");
  driver.exec("DROP INDEX IF EXISTS idx_executions_created_at");
  driver.exec("DROP INDEX IF EXISTS idx_executions_repo");
  driver.exec("DROP INDEX IF EXISTS idx_rate_limit_events_created_at");
  if (found.executions) driver.exec("ALTER TABLE executions RENAME TO legacy_executions");
  if (found.rateLimitEvents) driver.exec("ALTER TABLE rate_limit_events RENAME TO legacy_rate_limit_events");
  return found;
}

/** Copies legacy rows into the new tables and builds their rollups with the writer's own code. */
export function copyLegacyRows(driver: SqliteDriver, found: { executions: boolean; rateLimitEvents: boolean }): void {
  if (found.executions) {
    copyRows(driver, "executions", EXECUTION_COLUMNS, { cost_source: "'reported'" });
    const copied = driver.prepare("SELECT * FROM executions WHERE id LIKE 'legacy-executions-%'").all().map(toExecutionRow);
    new BatchWriter(driver, ["day"]).rollUpStored({ executions: copied });
  }
  if (found.rateLimitEvents) copyRows(driver, "rate_limit_events", RATE_LIMIT_COLUMNS);
}

function toExecutionRow(r: Record<string, unknown>): ExecutionRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const count = (v: unknown) => Number(v ?? 0);
  return {
    id: String(r.id), createdAt: count(r.created_at), deliveryId: text(r.delivery_id), repo: String(r.repo), prNumber: r.pr_number === null ? null : count(r.pr_number),
    eventType: String(r.event_type), provider: String(r.provider), model: String(r.model), inputTokens: count(r.input_tokens),
    outputTokens: count(r.output_tokens), cacheReadTokens: count(r.cache_read_tokens), cacheCreationTokens: count(r.cache_creation_tokens),
    durationMs: count(r.duration_ms), costUsd: count(r.cost_usd), costSource: "reported", conclusion: String(r.conclusion),
    sessionId: text(r.session_id), numTurns: r.num_turns === null ? null : count(r.num_turns), stopReason: text(r.stop_reason), attributes: text(r.attributes),
  };
}
