import type { Batch, CacheEventRow, ExecutionRow, RateLimitEventRow, ToolCallRow } from "../../core/rows.ts";
import type { SqliteDriver, SqliteStatement } from "./driver.ts";
import { utcDay } from "./utc-day.ts";
import { addEncodedBuckets, encodeBuckets } from "../../core/duration-buckets.ts";
import {
  add, addSums, cacheLookupKey, cacheLookupSums, degradationKey, degradationSums, Groups, modelUsageSums, signed, usageSums, type RolledUpExecution,
} from "../rollup-sums.ts";
import { isLaterSnapshot } from "../../core/snapshot.ts";
import { differingField, EXECUTION_IDENTITY, replacedSnapshot, rolledUp, TOOL_CALL_IDENTITY, type StoredExecution } from "../stored-records.ts";

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
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, repo, event_type, provider, model, conclusion) DO UPDATE SET
      runs = runs + excluded.runs, input_tokens = input_tokens + excluded.input_tokens,
      output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
      cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cost_usd = cost_usd + excluded.cost_usd,
      unpriced_runs = unpriced_runs + excluded.unpriced_runs, duration_ms = duration_ms + excluded.duration_ms,
      duration_buckets = excluded.duration_buckets`,
  dailyUsageBuckets: `SELECT duration_buckets FROM daily_usage
    WHERE day = ? AND repo = ? AND event_type = ? AND provider = ? AND model = ? AND conclusion = ?`,
  dailyModelUsage: `INSERT INTO daily_model_usage (day, repo, provider, model, runs, successes, failures, errors, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, repo, provider, model) DO UPDATE SET
      runs = runs + excluded.runs, successes = successes + excluded.successes, failures = failures + excluded.failures,
      errors = errors + excluded.errors, input_tokens = input_tokens + excluded.input_tokens,
      output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
      cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cost_usd = cost_usd + excluded.cost_usd,
      unpriced_runs = unpriced_runs + excluded.unpriced_runs, duration_ms = duration_ms + excluded.duration_ms,
      duration_buckets = excluded.duration_buckets`,
  dailyModelUsageBuckets: `SELECT duration_buckets FROM daily_model_usage WHERE day = ? AND repo = ? AND provider = ? AND model = ?`,
  dailyToolUsage: `INSERT INTO daily_tool_usage (day, server, tool_name, outcome, calls, duration_ms, input_bytes, output_bytes, duration_buckets)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, server, tool_name, outcome) DO UPDATE SET
      calls = calls + excluded.calls, duration_ms = duration_ms + excluded.duration_ms,
      input_bytes = input_bytes + excluded.input_bytes, output_bytes = output_bytes + excluded.output_bytes,
      duration_buckets = excluded.duration_buckets`,
  dailyToolUsageBuckets: `SELECT duration_buckets FROM daily_tool_usage WHERE day = ? AND server = ? AND tool_name = ? AND outcome = ?`,
  dailyDegradations: `INSERT INTO daily_degradations (day, repo, resource, degradation, runs, retry_attempts, skipped_queries)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, repo, resource, degradation) DO UPDATE SET runs = runs + excluded.runs,
      retry_attempts = retry_attempts + excluded.retry_attempts, skipped_queries = skipped_queries + excluded.skipped_queries`,
  dailyCacheUsage: `INSERT INTO daily_cache_usage (day, cache, repo, lookups, hits, misses, errors) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, cache, repo) DO UPDATE SET lookups = lookups + excluded.lookups, hits = hits + excluded.hits,
      misses = misses + excluded.misses, errors = errors + excluded.errors`,
  dailyToolSession: `INSERT INTO daily_tool_sessions (day, server, tool_name, session_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  storedExecution: `SELECT created_at, repo, event_type, provider, model, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, duration_ms, cost_usd, cost_source, conclusion, stop_reason FROM executions WHERE id = ?`,
  replaceSnapshot: `UPDATE executions SET model = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
    cache_creation_tokens = ?, cost_usd = ?, cost_source = ?, stop_reason = ?, attributes = ? WHERE id = ?`,
  storedToolCall: `SELECT server, tool_name, outcome FROM tool_calls WHERE id = ?`,
} as const;

type StatementName = keyof typeof SQL;

/** Per-(day, dimensions) sums of one batch, so a batch costs one upsert per group, not per row. */
class UsageSums {
  readonly executions = new Groups();
  readonly models = new Groups();
  readonly tools = new Groups();
  readonly degradations = new Groups();
  readonly caches = new Groups();
  /** (day, server, tool, session) of the batch's tool calls made in a session. */
  readonly toolSessions = new Groups();

  /** Counts a run in; `sign` -1 takes one back out (a stored snapshot being replaced). */
  addExecution(row: RolledUpExecution, sign: 1 | -1 = 1): void {
    const day = utcDay(row.createdAt);
    add(this.executions, [day, row.repo, row.eventType, row.provider, row.model, row.conclusion], signed(usageSums(row), sign), row.durationMs, sign);
    add(this.models, [day, row.repo, row.provider, row.model], signed(modelUsageSums(row), sign), row.durationMs, sign);
  }

  addToolCall(row: ToolCallRow): void {
    const day = utcDay(row.createdAt);
    add(this.tools, [day, row.server, row.toolName, row.outcome], [1, row.durationMs, row.inputBytes ?? 0, row.outputBytes ?? 0], row.durationMs);
    if (row.sessionId !== null) this.toolSessions.entry([day, row.server, row.toolName, row.sessionId], []);
  }

  addRateLimitEvent(row: RateLimitEventRow): void {
    addSums(this.degradations, degradationKey(utcDay(row.createdAt), row), degradationSums(row));
  }

  addCacheEvent(row: CacheEventRow): void {
    addSums(this.caches, cacheLookupKey(utcDay(row.createdAt), row), cacheLookupSums(row));
  }
}

/**
 * The duration sketches this connection last wrote, by rollup row. Valid only while no other
 * connection has committed since (PRAGMA data_version tells); then a group's merge needs no
 * read. Bounded: cleared when it grows past {@link SKETCH_CACHE_ROWS}.
 */
class SketchCache {
  private readonly sketches = new Map<string, Map<number, number>>();

  get(table: string, id: string): Map<number, number> | undefined {
    return this.sketches.get(`${table}\u0001${id}`);
  }

  set(table: string, id: string, buckets: Map<number, number>): void {
    if (this.sketches.size >= SKETCH_CACHE_ROWS) this.sketches.clear();
    this.sketches.set(`${table}\u0001${id}`, buckets);
  }

  clear(): void {
    this.sketches.clear();
  }
}

const SKETCH_CACHE_ROWS = 20_000;

/** Upserts each group, merging its duration sketch with the stored one (same transaction). */
function upsertGroups(table: string, groups: Groups, read: SqliteStatement, upsert: SqliteStatement, cache: SketchCache): void {
  for (const { id, key, sums, buckets } of groups) {
    const known = cache.get(table, id);
    if (known) for (const [bucket, n] of known) buckets.set(bucket, (buckets.get(bucket) ?? 0) + n);
    else addEncodedBuckets(buckets, read.get(...key)?.duration_buckets);
    // A replaced snapshot takes its run back out: buckets it emptied are dropped.
    for (const [bucket, n] of buckets) if (n <= 0) buckets.delete(bucket);
    upsert.run(...key, ...sums, encodeBuckets(buckets));
    cache.set(table, id, buckets);
  }
}

/** Options of {@link BatchWriter.write}. */
export interface BatchWriteOptions {
  /**
   * An execution whose id is stored already replaces the stored row when it is a later
   * snapshot of the same streamed response (`isLaterSnapshot`): the row keeps its
   * `created_at`, takes every other field from the new record, and the rollups are corrected
   * by the difference. For importers of transcripts written while streaming. @default false
   */
  replaceSnapshots?: boolean;
}

/** What one batch did. */
export interface BatchOutcome {
  /** Rows inserted. */
  inserted: number;
  /** Stored executions replaced by a later snapshot (`replaceSnapshots`). */
  replaced: number;
  /** Records not written because their id (or, for rate-limit events, delivery) is stored already. */
  duplicates: number;
  /** The batch positions of those duplicates, ascending (the server answers per item). */
  duplicateIndexes: number[];
  /** Duplicates that differ from the stored row in a field that matters, by field name (`execution.model`). */
  collisions: string[];
  /** The oldest created_at of the executions inserted or replaced (what the hourly rollups must see), or null. */
  earliestChanged: number | null;
  /** The newest created_at of the executions inserted, or null: where the stream of runs has got to. */
  newestInserted: number | null;
}

/** Counts the record at `index` of the batch as a duplicate. */
function duplicate(outcome: BatchOutcome, index: number): void {
  outcome.duplicates++;
  outcome.duplicateIndexes.push(index);
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

  private readonly cache = new SketchCache();
  private readonly dataVersion: SqliteStatement;
  private lastDataVersion: unknown = undefined;

  constructor(driver: SqliteDriver) {
    this.dataVersion = driver.prepare("PRAGMA data_version");
    // Each prepared on first use: a migration that copies a legacy file writes at schema 1,
    // before the tables of later versions exist.
    const prepared = {} as Record<StatementName, SqliteStatement>;
    for (const name of Object.keys(SQL) as StatementName[]) {
      let statement: SqliteStatement | undefined;
      Object.defineProperty(prepared, name, { get: () => (statement ??= driver.prepare(SQL[name])) });
    }
    this.statements = prepared;
  }

  /** Adds rows that are already stored (copied by a migration) to the rollups. */
  rollUpExecutions(rows: readonly ExecutionRow[]): void {
    const sums = new UsageSums();
    for (const row of rows) sums.addExecution(row);
    this.rollUp(sums);
  }

  /** Merges the sums into the daily rollups, naming each step for error messages. */
  private rollUp(sums: UsageSums): void {
    const s = this.statements;
    this.current = "dailyUsage";
    upsertGroups("daily_usage", sums.executions, s.dailyUsageBuckets, s.dailyUsage, this.cache);
    this.current = "dailyModelUsage";
    upsertGroups("daily_model_usage", sums.models, s.dailyModelUsageBuckets, s.dailyModelUsage, this.cache);
    this.current = "dailyToolUsage";
    upsertGroups("daily_tool_usage", sums.tools, s.dailyToolUsageBuckets, s.dailyToolUsage, this.cache);
    this.current = "dailyDegradations";
    for (const { key, sums: values } of sums.degradations) s.dailyDegradations.run(...key, ...values);
    this.current = "dailyCacheUsage";
    for (const { key, sums: values } of sums.caches) s.dailyCacheUsage.run(...key, ...values);
    this.current = "dailyToolSession";
    for (const { key } of sums.toolSessions) s.dailyToolSession.run(...key);
  }

  /**
   * Call inside the write transaction, before write(): drops the sketch cache when another
   * connection has committed since this one last did.
   */
  checkOtherWriters(): void {
    const version = this.dataVersion.get()?.data_version;
    if (version !== this.lastDataVersion) this.cache.clear();
    this.lastDataVersion = version;
  }

  /** A failed transaction rolled back what the cache remembers. */
  forgetSketches(): void {
    this.cache.clear();
  }

  write(batch: Batch, options: BatchWriteOptions = {}): BatchOutcome {
    const s = this.statements;
    const sums = new UsageSums();
    const outcome: BatchOutcome = { inserted: 0, replaced: 0, duplicates: 0, duplicateIndexes: [], collisions: [], earliestChanged: null, newestInserted: null };
    const changed = (createdAt: number) => {
      if (outcome.earliestChanged === null || createdAt < outcome.earliestChanged) outcome.earliestChanged = createdAt;
    };
    let index = -1;
    const count = (changes: number) => {
      if (changes > 0) outcome.inserted++;
      else duplicate(outcome, index);
    };
    this.current = "begin";
    for (const record of batch) {
      index++;
      this.current = record.kind;
      switch (record.kind) {
        case "execution": {
          const r = record.row;
          if (s.execution.run(r.id, r.createdAt, r.deliveryId, r.repo, r.prNumber, r.eventType, r.provider, r.model,
            r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens, r.durationMs, r.costUsd, r.costSource,
            r.conclusion, r.sessionId, r.numTurns, r.stopReason, r.attributes).changes > 0) {
            outcome.inserted++;
            sums.addExecution(r);
            changed(r.createdAt);
            if (outcome.newestInserted === null || r.createdAt > outcome.newestInserted) outcome.newestInserted = r.createdAt;
          } else {
            const replacedAt = this.existingExecution(r, options, sums, outcome, index);
            if (replacedAt !== null) changed(replacedAt);
          }
          break;
        }
        case "rateLimitEvent": {
          const r = record.row;
          const changes = s.rateLimitEvent.run(r.id, r.createdAt, r.deliveryId, r.eventType, r.repo, r.prNumber, r.executionId,
            r.resource, r.limit, r.remaining, r.resetAt, r.retryAttempts, r.skippedQueries, r.degradation, r.attributes).changes;
          count(changes);
          if (changes > 0) sums.addRateLimitEvent(r);
          break;
        }
        case "toolCall": {
          const r = record.row;
          if (s.toolCall.run(r.id, r.createdAt, r.sessionId, r.executionId, r.server, r.toolName, r.durationMs, r.outcome,
            r.errorType, r.inputBytes, r.outputBytes, r.attributes).changes > 0) {
            outcome.inserted++;
            sums.addToolCall(r);
          } else {
            duplicate(outcome, index);
            this.current = "storedToolCall";
            const stored = s.storedToolCall.get(r.id);
            const field = stored === undefined ? null : differingField(r, stored, TOOL_CALL_IDENTITY);
            if (field !== null) outcome.collisions.push(`toolCall.${field}`);
          }
          break;
        }
        case "sessionStart": {
          const r = record.row;
          count(s.sessionStart.run(r.id, r.createdAt, r.createdAt, r.source, r.clientName, r.clientVersion).changes);
          break;
        }
        case "sessionEnd":
          // An end for an ended (or unknown) session changes nothing; it is no duplicate record.
          outcome.inserted += s.sessionEnd.run(record.row.endedAt, record.row.id).changes;
          break;
        case "cacheEvent": {
          const r = record.row;
          const changes = s.cacheEvent.run(r.id, r.createdAt, r.cache, r.outcome, r.deliveryId, r.eventType, r.repo).changes;
          count(changes);
          if (changes > 0) sums.addCacheEvent(r);
          break;
        }
      }
    }
    this.rollUp(sums);
    this.current = "commit"; // what fails next, if anything, is the COMMIT (a full disk, say)
    return outcome;
  }

  /**
   * An execution whose id is stored: a later snapshot replaces it (returns the stored row's
   * created_at), a replay is counted, a collision named (both return null).
   */
  private existingExecution(r: ExecutionRow, options: BatchWriteOptions, sums: UsageSums, outcome: BatchOutcome, index: number): number | null {
    const s = this.statements;
    this.current = "storedExecution";
    const stored = s.storedExecution.get(r.id) as StoredExecution | undefined;
    if (stored === undefined) {
      duplicate(outcome, index);
      return null;
    }
    if (options.replaceSnapshots === true && isLaterSnapshot(r, { outputTokens: Number(stored.output_tokens), stopReason: stored.stop_reason })) {
      this.current = "replaceSnapshot";
      s.replaceSnapshot.run(r.model, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens, r.costUsd, r.costSource,
        r.stopReason, r.attributes, r.id);
      const before = rolledUp(stored);
      sums.addExecution(before, -1);
      sums.addExecution(replacedSnapshot(before, r));
      outcome.replaced++;
      return before.createdAt;
    }
    duplicate(outcome, index);
    if (options.replaceSnapshots === true) return null; // earlier snapshots of a stored response differ by design
    const field = differingField(r, stored, EXECUTION_IDENTITY);
    if (field !== null) outcome.collisions.push(`execution.${field}`);
    return null;
  }
}
