import { encodeBuckets } from "../../core/duration-buckets.ts";
import { ceilTo, DAY_MS, floorTo, HOUR_MS, QUARTER_HOUR_MS } from "../../core/time-units.ts";
import type { SqliteDriver, SqliteStatement } from "./driver.ts";
import { raiseMeta, readMeta, writeMeta } from "./meta.ts";
import { HOURLY_FROM_KEY, HOURLY_TO_KEY } from "./schema-v2.ts";
import { QUARTER_HOURS_FROM_KEY, QUARTER_HOURS_TO_KEY, SLOT_TABLES } from "./schema-v5.ts";
import { add, Groups, modelUsageSums, usageSums, type RolledUpExecution } from "../rollup-sums.ts";

/** An hour is rolled up once it has been over this long: rows stamped a little late still land in it. */
export const HOURLY_GRACE_MS = 5 * 60_000;
/** Hours rolled up per write at most, so a writer catching up never stalls on one batch. */
const HOURS_PER_WRITE = 4;

/** An hour's raw rows, with the names the writer's own rollup sums read. */
const READ_HOUR = `SELECT created_at AS createdAt, repo, event_type AS eventType, provider, model, conclusion, input_tokens AS inputTokens,
  output_tokens AS outputTokens, cache_read_tokens AS cacheReadTokens, cache_creation_tokens AS cacheCreationTokens,
  cost_usd AS costUsd, cost_source AS costSource, duration_ms AS durationMs FROM executions WHERE created_at >= ? AND created_at < ?`;

const INSERT_MODEL_ROW = `INSERT INTO hourly_model_usage (hour, repo, provider, model, runs, successes, failures, errors, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_USAGE_ROW = `INSERT INTO hourly_usage (hour, repo, event_type, provider, model, conclusion, runs, input_tokens, output_tokens,
    cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_QUARTER_HOUR_ROW = `INSERT INTO quarter_hour_usage (quarter_hour, runs, successes, failures, errors, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The first raw run at or after a time: how empty hours are skipped. */
const NEXT_RAW = "SELECT min(created_at) AS t FROM executions WHERE created_at >= ?";

export const floorHour = (ms: number) => floorTo(ms, HOUR_MS);

/** Rolls runs up into their quarter hours, one row each, summed by the daily rollups' own code. */
function insertQuarterHours(insert: SqliteStatement, rows: readonly RolledUpExecution[]): void {
  const quarters = new Groups();
  for (const row of rows) add(quarters, [String(floorTo(row.createdAt, QUARTER_HOUR_MS))], modelUsageSums(row), row.durationMs);
  for (const g of quarters.values()) insert.run(Number(g.key[0]), ...g.sums, encodeBuckets(g.buckets));
}

/**
 * Keeps the hourly rollups in step with the raw rows, inside the caller's write transaction:
 * - rows inserted (or replaced) into hours already rolled up move the end of the covered span
 *   back to the first such hour, and those hours are rolled up again from the raw rows later;
 * - then up to HOURS_PER_WRITE closed hours after the span are rolled up, each from one read
 *   of its raw rows: one row per (repo, provider, model), one per (repo, event, provider,
 *   model, conclusion) and one per quarter hour, each with its duration sketch, summed by the
 *   daily rollups' own code (empty hours are skipped by an index lookup).
 */
export class HourlyRollup {
  private readonly statements: ReturnType<HourlyRollup["prepare"]>;

  constructor(private readonly driver: SqliteDriver) {
    this.statements = this.prepare();
  }

  private prepare() {
    const d = this.driver;
    return {
      readHour: d.prepare(READ_HOUR),
      insertModel: d.prepare(INSERT_MODEL_ROW),
      insertUsage: d.prepare(INSERT_USAGE_ROW),
      insertQuarterHour: d.prepare(INSERT_QUARTER_HOUR_ROW),
      nextRaw: d.prepare(NEXT_RAW),
      forget: SLOT_TABLES.map(([table, column]) => d.prepare(`DELETE FROM ${table} WHERE ${column} >= ?`)),
    };
  }

  /**
   * `earliestChanged`: the oldest created_at of executions this transaction inserted or
   * replaced; `newestInserted`: the newest inserted. An hour is rolled up once it is closed
   * (over HOURLY_GRACE_MS ago) and the runs being written have moved past it, so a writer of
   * older runs (an import) does not roll up the hour it is still filling.
   */
  advance(batch: { earliestChanged: number | null; newestInserted: number | null }, now: number): void {
    const { earliestChanged, newestInserted } = batch;
    const s = this.statements;
    const known = readMeta(this.driver, HOURLY_TO_KEY);
    if (known === null) return; // no hourly tables yet (a migration in progress)
    let to = Number(known);
    const start = to;
    if (earliestChanged !== null && earliestChanged < to) {
      to = Math.max(floorHour(earliestChanged), Number(readMeta(this.driver, HOURLY_FROM_KEY) ?? 0));
      for (const forget of s.forget) forget.run(to);
    }
    const closedBefore = Math.min(floorHour(now - HOURLY_GRACE_MS), newestInserted === null ? Number.POSITIVE_INFINITY : floorHour(newestInserted));
    for (let rolled = 0; rolled < HOURS_PER_WRITE && to < closedBefore; rolled++) {
      const next = s.nextRaw.get(to)?.t;
      if (next === null || next === undefined) {
        to = closedBefore; // no raw rows after the span: every closed hour is empty
        break;
      }
      const hour = floorHour(Number(next));
      if (hour >= closedBefore) {
        to = Math.max(to, hour); // the hours in between are empty
        break;
      }
      // Every table from one read of the hour, summed by the daily rollups' own code.
      const rows = s.readHour.all(hour, hour + HOUR_MS) as unknown as RolledUpExecution[];
      const models = new Groups();
      const usage = new Groups();
      for (const row of rows) {
        add(models, [row.repo, row.provider, row.model], modelUsageSums(row), row.durationMs);
        add(usage, [row.repo, row.eventType, row.provider, row.model, row.conclusion], usageSums(row), row.durationMs);
      }
      for (const g of models.values()) s.insertModel.run(hour, ...g.key, ...g.sums, encodeBuckets(g.buckets));
      for (const g of usage.values()) s.insertUsage.run(hour, ...g.key, ...g.sums, encodeBuckets(g.buckets));
      insertQuarterHours(s.insertQuarterHour, rows);
      to = hour + HOUR_MS;
    }
    if (to !== start) writeSpanEnd(this.driver, "to", to);
  }
}

/**
 * Sets one end of the span the slot tables cover: the hourly keys, and the quarter hours' keys
 * the report engine reads for them. The quarter hours end where the hours do (one step rolls
 * both up) but may start later (see `backfillQuarterHours`): their start is only ever raised.
 */
function writeSpanEnd(driver: SqliteDriver, end: "from" | "to", at: number): void {
  if (end === "from") {
    writeMeta(driver, HOURLY_FROM_KEY, at);
    raiseMeta(driver, QUARTER_HOURS_FROM_KEY, at);
  } else {
    writeMeta(driver, HOURLY_TO_KEY, at);
    writeMeta(driver, QUARTER_HOURS_TO_KEY, at);
  }
}

/** Sets the covered span to the empty span at `at`: nothing before it is used; the writer rolls up from there. */
function restartSpan(driver: SqliteDriver, at: number): void {
  writeSpanEnd(driver, "from", at);
  writeSpanEnd(driver, "to", at);
}

/** Schema 2's start: the hourly rollups cover nothing yet; the writer rolls up from the raw rows still held. */
export function startHourlyRollups(driver: SqliteDriver, rawPurgedBefore: number | null): void {
  restartSpan(driver, rawPurgedBefore === null ? 0 : floorHour(rawPurgedBefore) + HOUR_MS);
}

/**
 * After a purge of raw rows at `cutoff`: hours not rolled up yet whose raw rows went can never
 * be rolled up, so the span starts again after the cut-off (the hours rolled up before it are
 * dropped rather than left as a second, disjoint span).
 */
export function afterRawPurge(driver: SqliteDriver, cutoff: number): void {
  const to = readMeta(driver, HOURLY_TO_KEY);
  if (to === null || Number(to) >= cutoff) return;
  const restart = ceilTo(cutoff, HOUR_MS);
  for (const [table, column] of SLOT_TABLES) driver.prepare(`DELETE FROM ${table} WHERE ${column} < ?`).run(restart);
  restartSpan(driver, restart);
}

/** After rollups older than `cutoff` were purged: hourly rows before it go, and the span starts no earlier. */
export function afterRollupPurge(driver: SqliteDriver, cutoff: number): number {
  const from = readMeta(driver, HOURLY_FROM_KEY);
  if (from === null) return 0;
  let deleted = 0;
  for (const [table, column] of SLOT_TABLES) deleted += driver.prepare(`DELETE FROM ${table} WHERE ${column} < ?`).run(cutoff).changes;
  if (Number(from) < cutoff) {
    writeSpanEnd(driver, "from", cutoff);
    if (Number(readMeta(driver, HOURLY_TO_KEY) ?? 0) < cutoff) writeSpanEnd(driver, "to", cutoff);
  }
  return deleted;
}

/**
 * Schema 5's start: the quarter hours of every hour the hourly rollups cover whose raw rows are
 * still held, rolled up from them, so reports by time alone need not wait for the writer. Hours
 * rolled up before a purge of raw rows keep their hourly rows, but their quarter hours cannot
 * be rebuilt: the quarter hours' span starts after that purge.
 */
export function backfillQuarterHours(driver: SqliteDriver, rawPurgedBefore: number | null): void {
  const hourlyFrom = Number(readMeta(driver, HOURLY_FROM_KEY) ?? 0);
  const from = Math.max(hourlyFrom, rawPurgedBefore === null ? 0 : ceilTo(rawPurgedBefore, HOUR_MS));
  const to = Number(readMeta(driver, HOURLY_TO_KEY) ?? 0);
  const read = driver.prepare(READ_HOUR);
  const insert = driver.prepare(INSERT_QUARTER_HOUR_ROW);
  const nextRaw = driver.prepare(NEXT_RAW);
  // A day at a time, so memory stays small whatever the span; empty stretches skipped by the index.
  for (let at = from; at < to; ) {
    const next = nextRaw.get(at)?.t;
    if (next === null || next === undefined || Number(next) >= to) break;
    const start = floorHour(Number(next));
    const end = Math.min(to, start + DAY_MS);
    insertQuarterHours(insert, read.all(start, end) as unknown as RolledUpExecution[]);
    at = end;
  }
  writeMeta(driver, QUARTER_HOURS_FROM_KEY, from);
  writeMeta(driver, QUARTER_HOURS_TO_KEY, to);
}
