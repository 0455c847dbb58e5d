import type { SqliteDriver } from "./driver.ts";
import { RAW_TABLES } from "./schema-v1.ts";
import { ROLLUP_TABLES } from "./schema-v4.ts";
import { afterRawPurge, afterRollupPurge } from "./hourly-rollup.ts";
import { utcDay } from "./utc-day.ts";
import { raiseMeta, readMeta } from "./meta.ts";
import { DAY_MS } from "../../core/time-units.ts";

/** Rows per DELETE: each chunk holds the write lock ~5 ms, so other writers are not starved. */
export const PURGE_CHUNK_ROWS = 1000;

/**
 * Deletes raw rows older than `days` in chunks of {@link PURGE_CHUNK_ROWS}, each its own
 * transaction. Returns the number of raw rows deleted. Rollups are not touched here.
 */
export function purgeRawRows(driver: SqliteDriver, days: number, now: number): number {
  const cutoff = now - days * DAY_MS;
  let deleted = 0;
  for (const { table, timeColumn } of RAW_TABLES) {
    const chunk = driver.prepare(
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${timeColumn} < ? ORDER BY ${timeColumn} LIMIT ${PURGE_CHUNK_ROWS})`,
    );
    let deletedHere = 0;
    for (;;) {
      const { changes } = chunk.run(cutoff);
      deletedHere += changes;
      if (changes < PURGE_CHUNK_ROWS) break;
    }
    deleted += deletedHere;
    if (deletedHere > 0) raiseMeta(driver, purgedBeforeKey(table), cutoff);
    if (deletedHere > 0 && table === "executions") afterRawPurge(driver, cutoff);
  }
  return deleted;
}

/** The meta key of a table's purge watermark. */
export const purgedBeforeKey = (table: string) => `purged_before:${table}`;


/** Epoch ms below which rows of `table` were purged (null if none ever were). */
export function purgedBefore(driver: SqliteDriver, table: string): number | null {
  const value = readMeta(driver, purgedBeforeKey(table));
  return value === null ? null : Number(value);
}

/** Deletes rollup days (and their hours) older than `days`; returns how many rollup rows went. */
export function purgeRollups(driver: SqliteDriver, days: number, now: number): number {
  const cutoffDay = utcDay(now - days * DAY_MS);
  let deleted = 0;
  for (const table of ROLLUP_TABLES) deleted += driver.prepare(`DELETE FROM ${table} WHERE day < ?`).run(cutoffDay).changes;
  return deleted + afterRollupPurge(driver, Date.parse(`${cutoffDay}T00:00:00Z`));
}
