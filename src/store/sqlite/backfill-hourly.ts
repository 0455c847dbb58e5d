import type { ExecutionRow, ToolCallRow } from "../../core/rows.ts";
import type { SqliteDriver } from "./driver.ts";
import { writeMeta } from "./meta.ts";
import { purgedBefore } from "./purge.ts";
import { HOURLY_FROM_KEY } from "./schema-v2.ts";
import { BatchWriter } from "./write-batch.ts";

/** Raw rows read per step: bounded memory whatever the database's size. */
const CHUNK_ROWS = 20_000;

/**
 * Builds the hourly rollups from the raw rows still held (schema 2), with the writer's own
 * rollup code, inside the migration's transaction. Rows purged before now never reach them:
 * the hours they fell in are marked as not covered (`hourly_rollups_from`), and reports read
 * those from the daily rollups and raw rows instead.
 */
export function backfillHourlyRollups(driver: SqliteDriver): void {
  const writer = new BatchWriter(driver);
  for (let after = 0; ; ) {
    const rows = driver
      .prepare(`SELECT rowid AS r, created_at, repo, event_type, provider, model, conclusion, input_tokens, output_tokens,
        cache_read_tokens, cache_creation_tokens, cost_usd, cost_source, duration_ms FROM executions WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS}`)
      .all(after);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.r);
    writer.rollUpStored({
      executions: rows.map((r) => ({
        createdAt: Number(r.created_at), repo: String(r.repo), eventType: String(r.event_type), provider: String(r.provider), model: String(r.model),
        conclusion: String(r.conclusion), inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens),
        cacheReadTokens: Number(r.cache_read_tokens), cacheCreationTokens: Number(r.cache_creation_tokens), costUsd: Number(r.cost_usd),
        costSource: String(r.cost_source) as ExecutionRow["costSource"], durationMs: Number(r.duration_ms),
      })),
    }, ["hour"]);
  }
  for (let after = 0; ; ) {
    const rows = driver
      .prepare(`SELECT rowid AS r, created_at, server, tool_name, outcome, duration_ms, input_bytes, output_bytes FROM tool_calls
        WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS}`)
      .all(after);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.r);
    writer.rollUpStored({
      toolCalls: rows.map((r) => ({
        createdAt: Number(r.created_at), server: String(r.server), toolName: String(r.tool_name), outcome: String(r.outcome) as ToolCallRow["outcome"],
        durationMs: Number(r.duration_ms), inputBytes: r.input_bytes === null ? null : Number(r.input_bytes),
        outputBytes: r.output_bytes === null ? null : Number(r.output_bytes),
      })),
    }, ["hour"]);
  }
  const purged = Math.max(purgedBefore(driver, "executions") ?? 0, purgedBefore(driver, "tool_calls") ?? 0);
  writeMeta(driver, HOURLY_FROM_KEY, purged);
}
