/**
 * One batch into PostgreSQL, in one transaction, safe with many writers on one database:
 * - raw rows go in with one `INSERT … SELECT FROM unnest(arrays)` per kind, sorted by id (two
 *   writers inserting overlapping batches take their locks in the same order: they wait, never
 *   deadlock); on the partitioned tables each id is first claimed in `<table>_ids` in the same
 *   statement (columns.ts), elsewhere `ON CONFLICT DO NOTHING`; the statement returns the ids
 *   actually inserted — a writer that met an id another transaction was writing waits for it
 *   to commit, then finds it taken: the record counts once, whoever wins;
 * - the rollup sums are made while the server inserts, as if every row goes in, and the rows
 *   stored already are taken back out, so the rollups count inserted rows only;
 * - the rollups are upserted in one statement, groups sorted by key, sums added and sketches
 *   merged by the database under the row's lock (`tally_sketch_merge`); the same statement
 *   adds the (day, tool, session) rows of the inserted tool calls to daily_tool_sessions.
 */
import type { TransactionSql } from "postgres";
import type { Batch, CacheEventRow, ExecutionRow, RateLimitEventRow, SessionEndRow, SessionStartRow, ToolCallRow } from "../../core/rows.ts";
import { arrayLiteral } from "./array-literal.ts";
import { copyChunks, copyInto, copyText, sendCopy } from "./copy.ts";
import { postgresCode } from "./errors.ts";
import { encodePairs } from "./sketch.ts";
import { PARTITIONED } from "./schema.ts";
import {
  add, addSums, cacheLookupKey, cacheLookupSums, degradationKey, degradationSums, Groups, RunGroups, signed, type Group, type RolledUpExecution,
} from "../rollup-sums.ts";
import { isLaterSnapshot } from "../../core/snapshot.ts";
import { differingField, EXECUTION_IDENTITY, replacedSnapshot, rolledUp, TOOL_CALL_IDENTITY, type StoredExecution } from "../stored-records.ts";
import { utcDay } from "../sqlite/utc-day.ts";
import {
  CACHE_EVENTS, DAILY_CACHE_USAGE, DAILY_DEGRADATIONS, DAILY_MODEL_USAGE, DAILY_TOOL_SESSIONS, DAILY_TOOL_USAGE, DAILY_USAGE, EXECUTIONS,
  HOURLY_MODEL_USAGE, HOURLY_USAGE, insertRowsSql, QUARTER_HOUR_USAGE, insertSetCte, RATE_LIMIT_EVENTS, SESSIONS, TOOL_CALLS, upsertRollupCte, type RollupColumns,
  type ColumnValue, type TableColumns,
} from "./columns.ts";

/** What one batch did (the store turns it into a WriteResult). */
export interface PostgresBatchOutcome {
  inserted: number;
  duplicates: number;
  duplicateIndexes: number[];
  collisions: string[];
  replaced: number;
}


/** Whether a group changes its rollup row: any sum or bucket count not zero. */
function changes(group: Group): boolean {
  for (const sum of group.sums) if (sum !== 0) return true;
  for (const count of group.buckets.values()) if (count !== 0) return true;
  return false;
}

/** Groups in key order: two writers touching the same rows take their locks in the same order. */
const byGroupId = (a: Group, b: Group) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The rollup groups of one batch, per table. */
class RollupGroups {
  readonly byTable = new Map<RollupColumns, Groups>([
    [DAILY_USAGE, new Groups()], [DAILY_MODEL_USAGE, new Groups()], [HOURLY_USAGE, new Groups()], [HOURLY_MODEL_USAGE, new Groups()], [QUARTER_HOUR_USAGE, new Groups()], [DAILY_TOOL_USAGE, new Groups()],
    [DAILY_DEGRADATIONS, new Groups()], [DAILY_CACHE_USAGE, new Groups()],
  ]);
  /**
   * daily_tool_sessions rows, each summing how many of the batch's calls name it: counted like
   * the sums (every call, then the stored ones taken out), so a row goes in only when a call
   * naming it was inserted.
   */
  private readonly toolSessions = new Groups();

  /** The batch's runs, folded into the five execution rollups when the statement is made. */
  private readonly runs = new RunGroups();

  addExecution(row: RolledUpExecution, sign: 1 | -1 = 1): void {
    this.runs.add(row, sign);
  }

  addToolCall(row: ToolCallRow, sign: 1 | -1 = 1): void {
    const sums = signed([1, row.durationMs, row.inputBytes ?? 0, row.outputBytes ?? 0], sign);
    const day = utcDay(row.createdAt);
    add(this.byTable.get(DAILY_TOOL_USAGE)!, [day, row.server, row.toolName, row.outcome], sums, row.durationMs, sign);
    if (row.sessionId === null) return;
    addSums(this.toolSessions, [day, row.server, row.toolName, row.sessionId], [sign]);
  }

  addRateLimitEvent(row: RateLimitEventRow, sign: 1 | -1 = 1): void {
    addSums(this.byTable.get(DAILY_DEGRADATIONS)!, degradationKey(utcDay(row.createdAt), row), signed(degradationSums(row), sign));
  }

  addCacheEvent(row: CacheEventRow, sign: 1 | -1 = 1): void {
    addSums(this.byTable.get(DAILY_CACHE_USAGE)!, cacheLookupKey(utcDay(row.createdAt), row), signed(cacheLookupSums(row), sign));
  }

  /** One statement upserting every touched group of every rollup, each table's groups in key order. */
  statement(): { sql: string; params: unknown[] } | null {
    const table = (columns: RollupColumns) => this.byTable.get(columns)!;
    this.runs.rollUp({ daily: table(DAILY_USAGE), hourly: table(HOURLY_USAGE), dailyModel: table(DAILY_MODEL_USAGE), hourlyModel: table(HOURLY_MODEL_USAGE), quarterHour: table(QUARTER_HOUR_USAGE) });
    const ctes: string[] = [];
    const params: unknown[] = [];
    for (const [table, groups] of this.byTable) {
      if (groups.size === 0) continue;
      // A group whose rows were all stored already adds nothing: no upsert (a replayed batch touches no rollup row).
      const sorted = [...groups].filter(changes).sort(byGroupId);
      if (sorted.length === 0) continue;
      const first = params.length + 1;
      table.keys.forEach(([, type], i) => params.push(arrayLiteral(sorted.map((g) => g.key[i]!), type)));
      table.sums.forEach(([, type], i) => params.push(arrayLiteral(sorted.map((g) => g.sums[i]!), type)));
      if (table.sketch !== false) params.push(sorted.map((g) => encodePairs(g.buckets)));
      ctes.push(upsertRollupCte(`r${ctes.length}`, table, first));
    }
    // Sorted too: two writers adding the same rows take their locks in the same order.
    const sessionRows = [...this.toolSessions].filter((g) => g.sums[0]! > 0).sort(byGroupId);
    if (sessionRows.length > 0) {
      const first = params.length + 1;
      DAILY_TOOL_SESSIONS.columns.forEach(([, type], i) => params.push(arrayLiteral(sessionRows.map((g) => g.key[i]!), type)));
      ctes.push(insertSetCte(`r${ctes.length}`, DAILY_TOOL_SESSIONS, first));
    }
    if (ctes.length === 0) return null;
    return { sql: `WITH ${ctes.join(",\n")} SELECT 1`, params };
  }
}

/** How {@link writeBatch} writes. */
export interface WriteBatchOptions {
  /** A stored execution is replaced by a later snapshot of the same response (importers). */
  replaceSnapshots?: boolean;
  /**
   * Rows of the partitioned tables go in by COPY (see copyNewRows); throws
   * {@link IdsStoredAlreadyError} if one of their ids is stored already.
   */
  copy?: boolean;
  /** Fewer rows of a kind than this go in row by row even with `copy`. @default COPY_MIN_ROWS */
  copyMinRows?: number;
}

/**
 * Fewer rows of a kind than this go in by the row-by-row statement: two COPYs cost more
 * round trips than its one statement. Measured (bench/postgres-copy-threshold.ts, BENCHMARKS.md):
 * even somewhere between 50 and 200 rows depending on the run, 1.1–1.2× at 200, 1.4–1.7× at 1,000.
 */
export const COPY_MIN_ROWS = 200;

/**
 * Thrown by {@link writeBatch} when a COPY found an id stored already: the transaction is
 * rolled back, and the batch is written again with `copy: false`, which sorts out which
 * records are new.
 */
export class IdsStoredAlreadyError extends Error {
  constructor(table: string, options?: ErrorOptions) {
    super(`an id in the batch is stored in ${table} already`, options);
    this.name = "IdsStoredAlreadyError";
  }
}

/**
 * The fast path for new rows of a partitioned table: their ids claimed by one COPY into
 * `<table>_ids`, then the rows by a second COPY. COPY takes PostgreSQL's multi-insert path;
 * an `INSERT … SELECT` inserts row by row, ~2× the server's time (BENCHMARKS.md). A COPY
 * cannot skip a conflict, so when any id is claimed already (a replay, a retry, another
 * writer with the same batch, who is waited for) the claim fails as a whole: the caller rolls
 * the transaction back and writes the batch again row by row. (Not a savepoint: postgres.js
 * would send its ROLLBACK TO on a connection that may have died; see connection.ts.)
 * Exactly once either way: `<table>_ids`'s primary key decides, and a claimed id has no row
 * yet, so the second COPY cannot conflict. `meanwhile` runs while the server stores the claims.
 */
async function copyNewRows<R extends { id: string; createdAt: number }>(tx: TransactionSql, table: TableColumns, rows: Positioned<R>[], values: (row: R) => ColumnValue[], meanwhile: () => void): Promise<void> {
  try {
    const claims = await sendCopy(tx, `${table.table}_ids`, ["id", "created_at"], copyText(rows, ({ row }) => [row.id, row.createdAt]));
    meanwhile(); // while the server stores the claims
    await claims.stored;
  } catch (error) {
    throw postgresCode(error) === UNIQUE_VIOLATION ? new IdsStoredAlreadyError(`${table.table}_ids`, { cause: error }) : error;
  }
  // In chunks: the server stores one while the next is made.
  await copyInto(tx, table.table, table.columns.map(([name]) => name), copyChunks(rows, ({ row }) => values(row)));
}

/** SQLSTATE of a duplicate key. */
const UNIQUE_VIOLATION = "23505";

/** Column arrays (one per column, in `table`'s order, as array literals) of rows sorted by id. */
function columnArrays<R extends { id: string }>(table: TableColumns, rows: { row: R }[], values: (row: R) => ColumnValue[]): string[] {
  const arrays: ColumnValue[][] = table.columns.map(() => []);
  for (const { row } of rows) values(row).forEach((v, i) => arrays[i]!.push(v));
  return arrays.map((column, i) => arrayLiteral(column, table.columns[i]![1]));
}

const byId = <R extends { id: string }>(a: { row: R }, b: { row: R }) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0);

interface Positioned<R> {
  row: R;
  index: number;
}

/** The stored execution fields a duplicate is compared with, and a snapshot replaced from. */
const STORED_EXECUTION = `SELECT id, created_at, repo, event_type, provider, model, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens, duration_ms, cost_usd, cost_source, conclusion, stop_reason FROM executions WHERE id = ANY($1::text[])`;

const REPLACE_SNAPSHOT = `UPDATE executions SET model = $1, input_tokens = $2, output_tokens = $3, cache_read_tokens = $4,
  cache_creation_tokens = $5, cost_usd = $6, cost_source = $7, stop_reason = $8, attributes = $9 WHERE id = $10 AND created_at = $11`;

const END_SESSIONS = `UPDATE sessions SET ended_at = u.ended_at FROM unnest($1::text[], $2::int8[]) AS u(id, ended_at)
  WHERE sessions.id = u.id AND sessions.ended_at IS NULL RETURNING sessions.id`;

/**
 * Writes `batch` inside `tx`. Records were checked by the caller (expired ones refused,
 * partitions made); repeats of an id within the batch are duplicates of its first copy.
 */
export async function writeBatch(tx: TransactionSql, batch: Batch, options: WriteBatchOptions): Promise<PostgresBatchOutcome> {
  const outcome: PostgresBatchOutcome = { inserted: 0, duplicates: 0, duplicateIndexes: [], collisions: [], replaced: 0 };
  const executions: Positioned<ExecutionRow>[] = [];
  const toolCalls: Positioned<ToolCallRow>[] = [];
  const rateLimits: Positioned<RateLimitEventRow>[] = [];
  const sessions: Positioned<SessionStartRow>[] = [];
  const ends: Positioned<SessionEndRow>[] = [];
  const caches: Positioned<CacheEventRow>[] = [];
  const firstCopies = new Map<string, Record<string, unknown>>();
  batch.forEach((record, index) => {
    const key = `${record.kind}\u0000${record.row.id}`;
    const first = firstCopies.get(key);
    if (first !== undefined) {
      // An end for a session already ended in this batch changes nothing, like a second UPDATE.
      if (record.kind === "sessionEnd") return;
      duplicate(outcome, index);
      const identity = record.kind === "execution" ? EXECUTION_IDENTITY : record.kind === "toolCall" ? TOOL_CALL_IDENTITY : null;
      const field = identity === null || options.replaceSnapshots === true ? null : differingField(record.row as unknown as Record<string, unknown>, first, identity.map(([name]) => [name, name] as const));
      if (field !== null) outcome.collisions.push(`${record.kind}.${field}`);
      return;
    }
    firstCopies.set(key, record.row as unknown as Record<string, unknown>);
    const positioned = { row: record.row, index } as Positioned<never>;
    ({ execution: executions, toolCall: toolCalls, rateLimitEvent: rateLimits, sessionStart: sessions, sessionEnd: ends, cacheEvent: caches } as Record<string, Positioned<unknown>[]>)[record.kind]!.push(positioned);
  });

  const rollups = new RollupGroups();
  /**
   * Inserts rows of one kind; returns those not inserted (stored already). `meanwhile` runs
   * once the statement is sent, so JavaScript work (the rollup sums) overlaps the server's.
   */
  const insertRows = async <R extends { id: string; createdAt: number }>(table: TableColumns, rows: Positioned<R>[], values: (row: R) => ColumnValue[], meanwhile?: () => void): Promise<Positioned<R>[]> => {
    if (rows.length === 0) return [];
    rows.sort(byId);
    if (options.copy === true && PARTITIONED.has(table.table) && rows.length >= (options.copyMinRows ?? COPY_MIN_ROWS)) {
      await copyNewRows(tx, table, rows, values, () => meanwhile?.());
      outcome.inserted += rows.length;
      return [];
    }
    // `then` sends the query now (postgres.js queries are lazy until awaited).
    const sent = tx.unsafe(insertRowsSql(table, PARTITIONED.has(table.table)), columnArrays(table, rows, values) as never[], { prepare: true }).then((found) => found);
    meanwhile?.();
    const inserted = new Set((await sent).map((r) => String(r.id)));
    outcome.inserted += inserted.size;
    const repeats: Positioned<R>[] = [];
    for (const item of rows) {
      if (!inserted.has(item.row.id)) repeats.push(item);
    }
    return repeats;
  };

  const repeatedExecutions = await insertRows(EXECUTIONS, executions, (r) => [r.id, r.createdAt, r.deliveryId, r.repo, r.prNumber, r.eventType,
    r.provider, r.model, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens, r.durationMs, r.costUsd, r.costSource,
    r.conclusion, r.sessionId, r.numTurns, r.stopReason, r.attributes], () => {
    // Summed as if every row goes in, while the server inserts; those that did not are taken back out.
    for (const { row } of executions) rollups.addExecution(row);
  });
  for (const { row } of repeatedExecutions) rollups.addExecution(row, -1);
  if (repeatedExecutions.length > 0) await existingExecutions(tx, repeatedExecutions, options, rollups, outcome);

  const repeatedCalls = await insertRows(TOOL_CALLS, toolCalls, (r) => [r.id, r.createdAt, r.sessionId, r.executionId, r.server, r.toolName,
    r.durationMs, r.outcome, r.errorType, r.inputBytes, r.outputBytes, r.attributes], () => {
    for (const { row } of toolCalls) rollups.addToolCall(row);
  });
  for (const { row } of repeatedCalls) rollups.addToolCall(row, -1);
  if (repeatedCalls.length > 0) {
    const stored = new Map((await tx.unsafe("SELECT id, server, tool_name, outcome FROM tool_calls WHERE id = ANY($1::text[])", [repeatedCalls.map((c) => c.row.id)] as never[])).map((r) => [String(r.id), r]));
    for (const { row, index } of repeatedCalls) {
      duplicate(outcome, index);
      const found = stored.get(row.id);
      const field = found === undefined ? null : differingField(row, found, TOOL_CALL_IDENTITY);
      if (field !== null) outcome.collisions.push(`toolCall.${field}`);
    }
  }

  // Not inserted: an id stored already, or (rate limits) another id's run of the same delivery and event type.
  const repeatedRateLimits = await insertRows(RATE_LIMIT_EVENTS, rateLimits, (r) => [r.id, r.createdAt, r.deliveryId, r.eventType, r.repo, r.prNumber,
    r.executionId, r.resource, r.limit, r.remaining, r.resetAt, r.retryAttempts, r.skippedQueries, r.degradation, r.attributes], () => {
    for (const { row } of rateLimits) rollups.addRateLimitEvent(row);
  });
  for (const { row, index } of repeatedRateLimits) {
    rollups.addRateLimitEvent(row, -1);
    duplicate(outcome, index);
  }
  for (const { index } of await insertRows(SESSIONS, sessions, (r) => [r.id, r.createdAt, r.createdAt, r.source, r.clientName, r.clientVersion])) duplicate(outcome, index);
  const repeatedCaches = await insertRows(CACHE_EVENTS, caches, (r) => [r.id, r.createdAt, r.cache, r.outcome, r.deliveryId, r.eventType, r.repo], () => {
    for (const { row } of caches) rollups.addCacheEvent(row);
  });
  for (const { row, index } of repeatedCaches) {
    rollups.addCacheEvent(row, -1);
    duplicate(outcome, index);
  }
  if (ends.length > 0) {
    ends.sort(byId);
    outcome.inserted += (await tx.unsafe(END_SESSIONS, [ends.map((e) => e.row.id), ends.map((e) => e.row.endedAt)] as never[])).length;
  }

  const upsert = rollups.statement();
  // Prepared: its text varies only with which rollups a batch touches (a handful of shapes).
  if (upsert !== null) await tx.unsafe(upsert.sql, upsert.params as never[], { prepare: true });
  outcome.duplicateIndexes.sort((a, b) => a - b);
  return outcome;
}

function duplicate(outcome: PostgresBatchOutcome, index: number): void {
  outcome.duplicates++;
  outcome.duplicateIndexes.push(index);
}

/** Executions whose id is stored: a later snapshot replaces the stored row; a replay is counted; a collision named. */
async function existingExecutions(tx: TransactionSql, repeats: Positioned<ExecutionRow>[], options: { replaceSnapshots?: boolean }, rollups: RollupGroups, outcome: PostgresBatchOutcome): Promise<void> {
  const rows = await tx.unsafe(STORED_EXECUTION, [repeats.map((e) => e.row.id)] as never[]);
  const stored = new Map(rows.map((r) => [String(r.id), r as unknown as StoredExecution]));
  for (const { row: r, index } of repeats) {
    const found = stored.get(r.id);
    if (found === undefined) {
      duplicate(outcome, index);
      continue;
    }
    if (options.replaceSnapshots === true && isLaterSnapshot(r, { outputTokens: Number(found.output_tokens), stopReason: found.stop_reason ?? null })) {
      await tx.unsafe(REPLACE_SNAPSHOT, [r.model, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens, r.costUsd, r.costSource,
        r.stopReason, r.attributes, r.id, Number(found.created_at)] as never[]);
      const before = rolledUp(found);
      rollups.addExecution(before, -1);
      rollups.addExecution(replacedSnapshot(before, r));
      outcome.replaced++;
      continue;
    }
    duplicate(outcome, index);
    if (options.replaceSnapshots === true) continue; // earlier snapshots of a stored response differ by design
    const field = differingField(r, found, EXECUTION_IDENTITY);
    if (field !== null) outcome.collisions.push(`execution.${field}`);
  }
}

