/**
 * Retention on PostgreSQL. The watermark goes first, in its own commit: from then on every
 * writer refuses records older than it as expired (their raw rows, and so their ids, are
 * about to go, and a second copy could not be told from a first one: the rollups would count
 * it twice). Then whole monthly partitions before the cut-off are detached and dropped, the
 * rest of the straddling month and the unpartitioned tables are deleted in chunks, and rollups
 * older than their own retention go. One purge at a time per schema (an advisory lock; a
 * server that finds it taken skips its turn).
 */
import type { Sql } from "postgres";
import { isConnectionError } from "./errors.ts";
import { advisoryKey } from "./migrate.ts";
import type { Partitions } from "./partitions.ts";
import { PARTITIONED_TABLES, RAW_TABLES } from "./schema.ts";
import { DAILY_CACHE_USAGE, DAILY_DEGRADATIONS, DAILY_MODEL_USAGE, DAILY_TOOL_SESSIONS, DAILY_TOOL_USAGE, DAILY_USAGE, HOURLY_MODEL_USAGE, HOURLY_USAGE, QUARTER_HOUR_USAGE } from "./columns.ts";
import { utcDay } from "../sqlite/utc-day.ts";

/** The rollups dated by a `day` column, of every schema version. */
const DAILY_ROLLUP_TABLES = [DAILY_USAGE, DAILY_MODEL_USAGE, DAILY_TOOL_USAGE, DAILY_DEGRADATIONS, DAILY_CACHE_USAGE, DAILY_TOOL_SESSIONS].map((t) => t.table);
/** The rollups dated by the start of a slot (an hour, a quarter hour), each with its span's `tally_meta` key. */
const SLOT_ROLLUP_TABLES = [
  [HOURLY_USAGE, "hourly_from"],
  [HOURLY_MODEL_USAGE, "hourly_from"],
  [QUARTER_HOUR_USAGE, "quarter_hours_from"],
] as const;

/** Rows per DELETE, so no statement holds its locks for long. */
const CHUNK_ROWS = 5000;

export const purgedBeforeKey = (table: string) => `purged_before:${table}`;

/** The purge watermark of every raw table that has one. */
export type Watermarks = Map<string, number>;

export async function readWatermarks(sql: Sql): Promise<Watermarks> {
  const rows = await sql`SELECT key, value FROM tally_meta WHERE key LIKE 'purged\\_before:%'`;
  return new Map(rows.map((r) => [String(r.key).slice("purged_before:".length), Number(r.value)]));
}

const RAISE = `INSERT INTO tally_meta (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = greatest(tally_meta.value::bigint, excluded.value::bigint)::text`;

/** Deletes raw rows before `rawCutoff` and rollups before `rollupCutoff`; returns the raw rows deleted. */
export async function purge(sql: Sql, schema: string, partitions: Partitions, cutoffs: { rawCutoff: number; rollupCutoff: number }): Promise<number> {
  const reserved = await sql.reserve();
  try {
    const [lock] = await reserved`SELECT pg_try_advisory_lock(hashtextextended(${advisoryKey(schema, "purge")}, 0)) AS got`;
    if (lock?.got !== true) return 0;
    let connectionLost = false;
    try {
      return await purgeLocked(sql, partitions, cutoffs);
    } catch (error) {
      connectionLost = isConnectionError(error);
      throw error;
    } finally {
      // The server went away: a statement sent on a dead connection would crash the process
      // (postgres.js, see connection.ts `transaction`). The lock ends with its session: at
      // once if that connection died too, else when the pool closes it idle (a minute).
      if (!connectionLost) await reserved`SELECT pg_advisory_unlock(hashtextextended(${advisoryKey(schema, "purge")}, 0))`;
    }
  } finally {
    reserved.release();
  }
}

async function purgeLocked(sql: Sql, partitions: Partitions, { rawCutoff, rollupCutoff }: { rawCutoff: number; rollupCutoff: number }): Promise<number> {
  const stale: string[] = [];
  for (const table of RAW_TABLES) {
    const [row] = await sql.unsafe(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE created_at < $1) AS any`, [rawCutoff] as never[]);
    if (row?.any === true) stale.push(table);
  }
  for (const table of stale) await sql.unsafe(RAISE, [purgedBeforeKey(table), String(rawCutoff)] as never[]);
  let deleted = stale.length > 0 ? await partitions.dropBefore(rawCutoff) : 0;
  for (const table of stale) {
    for (;;) {
      const result = await sql.unsafe(
        `DELETE FROM ${table} WHERE (id, created_at) IN (SELECT id, created_at FROM ${table} WHERE created_at < $1 LIMIT ${CHUNK_ROWS})`,
        [rawCutoff] as never[],
      );
      deleted += result.count;
      if (result.count < CHUNK_ROWS) break;
    }
  }
  // The claims of ids whose rows went: a record that old is refused as expired from now on.
  // One scan a day rather than a created_at index updated with every row written.
  for (const table of PARTITIONED_TABLES) {
    if (stale.includes(table)) await sql.unsafe(`DELETE FROM ${table}_ids WHERE created_at < $1`, [rawCutoff] as never[]);
  }
  const cutoffDay = utcDay(rollupCutoff);
  const dayStart = Date.parse(`${cutoffDay}T00:00:00Z`);
  for (const table of DAILY_ROLLUP_TABLES) await sql.unsafe(`DELETE FROM ${table} WHERE day < $1`, [cutoffDay] as never[]);
  for (const [table, spanFrom] of SLOT_ROLLUP_TABLES) {
    await sql.unsafe(`DELETE FROM ${table.table} WHERE ${table.keys[0]![0]} < $1`, [dayStart] as never[]);
    await sql.unsafe(RAISE, [spanFrom, String(dayStart)] as never[]);
  }
  return deleted;
}
