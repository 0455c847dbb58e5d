import type { Batch, ExecutionRow, ToolCallRow } from "../../core/rows.ts";
import type { SqliteDriver, SqliteStatement } from "./driver.ts";
import { utcDay } from "./utc-day.ts";
import { durationBucket } from "../../core/duration-buckets.ts";

const SQL = {
  execution: `INSERT INTO executions (id, created_at, delivery_id, repo, pr_number, event_type, provider, model,
    input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, duration_ms, cost_usd, cost_source,
    conclusion, session_id, num_turns, stop_reason, attributes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  rateLimitEvent: `INSERT INTO rate_limit_events (id, created_at, delivery_id, event_type, repo, pr_number, execution_id,
    resource, "limit", remaining, reset_at, retry_attempts, skipped_queries, degradation, attributes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  toolCall: `INSERT INTO tool_calls (id, created_at, session_id, execution_id, server, tool_name, duration_ms, outcome,
    error_type, input_bytes, output_bytes, attributes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  sessionStart: `INSERT INTO sessions (id, created_at, started_at, source, client_name, client_version)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  sessionEnd: `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`,
  cacheEvent: `INSERT INTO cache_events (id, created_at, cache, outcome, delivery_id, event_type, repo)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  dailyUsage: `INSERT INTO daily_usage (day, repo, event_type, provider, model, conclusion, runs, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, repo, event_type, provider, model, conclusion) DO UPDATE SET
      runs = runs + excluded.runs, input_tokens = input_tokens + excluded.input_tokens,
      output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
      cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cost_usd = cost_usd + excluded.cost_usd,
      unpriced_runs = unpriced_runs + excluded.unpriced_runs, duration_ms = duration_ms + excluded.duration_ms`,
  dailyDurationBuckets: `INSERT INTO daily_duration_buckets (day, repo, event_type, provider, model, conclusion, bucket, runs)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, repo, event_type, provider, model, conclusion, bucket) DO UPDATE SET runs = runs + excluded.runs`,
  dailyToolDurationBuckets: `INSERT INTO daily_tool_duration_buckets (day, server, tool_name, outcome, bucket, calls)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, server, tool_name, outcome, bucket) DO UPDATE SET calls = calls + excluded.calls`,
  dailyToolUsage: `INSERT INTO daily_tool_usage (day, server, tool_name, outcome, calls, duration_ms, input_bytes, output_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, server, tool_name, outcome) DO UPDATE SET
      calls = calls + excluded.calls, duration_ms = duration_ms + excluded.duration_ms,
      input_bytes = input_bytes + excluded.input_bytes, output_bytes = output_bytes + excluded.output_bytes`,
} as const;

type StatementName = keyof typeof SQL;

/** Per-(day, dimensions) sums of one batch, so a batch costs one upsert per group, not per row. */
class UsageSums {
  readonly executions: Groups = new Map();
  readonly executionBuckets: Groups = new Map();
  readonly tools: Groups = new Map();
  readonly toolBuckets: Groups = new Map();

  addExecution(row: ExecutionRow): void {
    const key: (string | number)[] = [utcDay(row.createdAt), row.repo, row.eventType, row.provider, row.model, row.conclusion];
    const values = [1, row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheCreationTokens, row.costUsd,
      row.costSource === "unpriced" ? 1 : 0, row.durationMs];
    add(this.executions, key, values);
    add(this.executionBuckets, [...key, durationBucket(row.durationMs)], [1]);
  }

  addToolCall(row: ToolCallRow): void {
    const key: (string | number)[] = [utcDay(row.createdAt), row.server, row.toolName, row.outcome];
    add(this.tools, key, [1, row.durationMs, row.inputBytes ?? 0, row.outputBytes ?? 0]);
    add(this.toolBuckets, [...key, durationBucket(row.durationMs)], [1]);
  }
}

type Groups = Map<string, { key: (string | number)[]; sums: number[] }>;

function add(groups: Groups, key: (string | number)[], values: number[]): void {
  const id = key.join("\u0000");
  const group = groups.get(id);
  if (group === undefined) {
    groups.set(id, { key, sums: values });
    return;
  }
  for (let i = 0; i < values.length; i++) group.sums[i]! += values[i]!;
}

/**
 * Prepared once per connection; `write` runs inside the caller's transaction and returns
 * the rows actually inserted (duplicates by id or by (delivery_id, event_type) are skipped
 * and do not reach the rollups).
 */
export class BatchWriter {
  private readonly statements: Record<StatementName, SqliteStatement>;
  /** Which statement ran last, for error messages (never with its values). */
  current: StatementName | "begin" | "commit" = "begin";

  constructor(driver: SqliteDriver) {
    const prepared = {} as Record<StatementName, SqliteStatement>;
    for (const name of Object.keys(SQL) as StatementName[]) prepared[name] = driver.prepare(SQL[name]);
    this.statements = prepared;
  }

  write(batch: Batch): number {
    const s = this.statements;
    const sums = new UsageSums();
    let inserted = 0;
    this.current = "begin";
    for (const record of batch) {
      this.current = record.kind;
      switch (record.kind) {
        case "execution": {
          const r = record.row;
          if (s.execution.run(r.id, r.createdAt, r.deliveryId, r.repo, r.prNumber, r.eventType, r.provider, r.model,
            r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens, r.durationMs, r.costUsd, r.costSource,
            r.conclusion, r.sessionId, r.numTurns, r.stopReason, r.attributes).changes > 0) {
            inserted++;
            sums.addExecution(r);
          }
          break;
        }
        case "rateLimitEvent": {
          const r = record.row;
          inserted += s.rateLimitEvent.run(r.id, r.createdAt, r.deliveryId, r.eventType, r.repo, r.prNumber, r.executionId,
            r.resource, r.limit, r.remaining, r.resetAt, r.retryAttempts, r.skippedQueries, r.degradation, r.attributes).changes;
          break;
        }
        case "toolCall": {
          const r = record.row;
          if (s.toolCall.run(r.id, r.createdAt, r.sessionId, r.executionId, r.server, r.toolName, r.durationMs, r.outcome,
            r.errorType, r.inputBytes, r.outputBytes, r.attributes).changes > 0) {
            inserted++;
            sums.addToolCall(r);
          }
          break;
        }
        case "sessionStart": {
          const r = record.row;
          inserted += s.sessionStart.run(r.id, r.createdAt, r.createdAt, r.source, r.clientName, r.clientVersion).changes;
          break;
        }
        case "sessionEnd":
          inserted += s.sessionEnd.run(record.row.endedAt, record.row.id).changes;
          break;
        case "cacheEvent": {
          const r = record.row;
          inserted += s.cacheEvent.run(r.id, r.createdAt, r.cache, r.outcome, r.deliveryId, r.eventType, r.repo).changes;
          break;
        }
      }
    }
    this.current = "dailyUsage";
    for (const { key, sums: v } of sums.executions.values()) s.dailyUsage.run(...key, ...v);
    this.current = "dailyDurationBuckets";
    for (const { key, sums: v } of sums.executionBuckets.values()) s.dailyDurationBuckets.run(...key, ...v);
    this.current = "dailyToolUsage";
    for (const { key, sums: v } of sums.tools.values()) s.dailyToolUsage.run(...key, ...v);
    this.current = "dailyToolDurationBuckets";
    for (const { key, sums: v } of sums.toolBuckets.values()) s.dailyToolDurationBuckets.run(...key, ...v);
    this.current = "commit"; // what fails next, if anything, is the COMMIT (a full disk, say)
    return inserted;
  }
}
