/**
 * Retention on PostgreSQL. The watermark goes first, in its own commit: from then on every
 * writer refuses records older than it as expired (their raw rows, and so their ids, are
 * about to go, and a second copy could not be told from a first one: the rollups would count
 * it twice). Then whole monthly partitions before the cut-off are detached and dropped, the
 * rest of the straddling month and the unpartitioned tables are deleted in chunks, and rollups
 * older than their own retention go. One purge at a time per schema (a lease in `tally_meta`;
 * a server that finds it taken skips its turn).
 */
import type { Sql } from "postgres";
import { inSchemaStatement } from "./connection.ts";
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

/** Read before every write, so the table is named with its schema: one statement, no transaction around it. */
export async function readWatermarks(sql: Sql, schema: string): Promise<Watermarks> {
  const rows = await sql.unsafe(`SELECT key, value FROM "${schema}".tally_meta WHERE key LIKE 'purged\\_before:%'`);
  return new Map(rows.map((r) => [String(r.key).slice("purged_before:".length), Number(r.value)]));
}

const RAISE = `INSERT INTO tally_meta (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = greatest(tally_meta.value::bigint, excluded.value::bigint)::text`;

/**
 * How long a purge may hold its turn. Longer than any purge should take; a server that dies
 * mid-purge holds up the next one (a day later, usually) at most this long.
 */
const PURGE_LEASE_MS = 6 * 60 * 60 * 1000;

/** The database's clock in epoch ms: every server's lease is measured by the same clock. */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** Takes the purge lease if it is free or expired; returns the lease's end, or null when another server holds it. */
const TAKE_LEASE = `INSERT INTO tally_meta (key, value) VALUES ('purge_lease', (${DB_NOW} + $1)::text)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE tally_meta.value::bigint < ${DB_NOW} RETURNING value`;

/** Gives the lease back, unless it expired and another server took it meanwhile. */
const RETURN_LEASE = "UPDATE tally_meta SET value = '0' WHERE key = 'purge_lease' AND value = $1";

/**
 * Deletes raw rows before `rawCutoff` and rollups before `rollupCutoff`; returns the raw rows
 * deleted. One purge at a time per schema, by a lease in `tally_meta` rather than a session
 * advisory lock: a session lock needs one connection kept for the whole purge, which a pooler
 * in transaction mode does not give, and whose unlock postgres.js would send on a dead socket
 * (and crash: connection.ts `transaction`) if that session were ended meanwhile.
 */
export async function purge(sql: Sql, schema: string, partitions: Partitions, cutoffs: { rawCutoff: number; rollupCutoff: number }): Promise<number> {
  // Each statement commits on its own (a DELETE chunk holds its locks briefly), in the schema.
  const run = (text: string, params: readonly unknown[]) => inSchemaStatement(sql, schema, text, params);
  const [lease] = await run(TAKE_LEASE, [PURGE_LEASE_MS]);
  if (lease === undefined) return 0;
  try {
    return await purgeLocked(run, partitions, cutoffs);
  } finally {
    await run(RETURN_LEASE, [lease.value]).catch(() => {}); // unreachable: the lease expires on its own
  }
}

type Run = (text: string, params: readonly unknown[]) => Promise<Record<string, unknown>[] & { count: number }>;

async function purgeLocked(run: Run, partitions: Partitions, { rawCutoff, rollupCutoff }: { rawCutoff: number; rollupCutoff: number }): Promise<number> {
  const stale: string[] = [];
  for (const table of RAW_TABLES) {
    const [row] = await run(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE created_at < $1) AS any`, [rawCutoff]);
    if (row?.any === true) stale.push(table);
  }
  for (const table of stale) await run(RAISE, [purgedBeforeKey(table), String(rawCutoff)]);
  let deleted = stale.length > 0 ? await partitions.dropBefore(rawCutoff) : 0;
  for (const table of stale) {
    for (;;) {
      const result = await run(`DELETE FROM ${table} WHERE (id, created_at) IN (SELECT id, created_at FROM ${table} WHERE created_at < $1 LIMIT ${CHUNK_ROWS})`, [rawCutoff]);
      deleted += result.count;
      if (result.count < CHUNK_ROWS) break;
    }
  }
  // The claims of ids whose rows went: a record that old is refused as expired from now on.
  // One scan a day rather than a created_at index updated with every row written.
  for (const table of PARTITIONED_TABLES) {
    if (stale.includes(table)) await run(`DELETE FROM ${table}_ids WHERE created_at < $1`, [rawCutoff]);
  }
  const cutoffDay = utcDay(rollupCutoff);
  const dayStart = Date.parse(`${cutoffDay}T00:00:00Z`);
  for (const table of DAILY_ROLLUP_TABLES) await run(`DELETE FROM ${table} WHERE day < $1`, [cutoffDay]);
  for (const [table, spanFrom] of SLOT_ROLLUP_TABLES) {
    await run(`DELETE FROM ${table.table} WHERE ${table.keys[0]![0]} < $1`, [dayStart]);
    await run(RAISE, [spanFrom, String(dayStart)]);
  }
  return deleted;
}
