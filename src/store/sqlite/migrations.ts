import { inTransaction, type SqliteDriver } from "./driver.ts";
import { copyLegacyRows, setAsideLegacyTables } from "./legacy.ts";
import { SCHEMA_V1 } from "./schema-v1.ts";
import { SCHEMA_V2 } from "./schema-v2.ts";
import { SCHEMA_V3 } from "./schema-v3.ts";
import { BACKFILL_V4, SCHEMA_V4 } from "./schema-v4.ts";
import { backfillQuarterHours, startHourlyRollups } from "./hourly-rollup.ts";
import { SCHEMA_V5 } from "./schema-v5.ts";
import { purgedBefore } from "./purge.ts";

/** One numbered, additive schema step. */
interface Migration {
  version: number;
  description: string;
  up(driver: SqliteDriver): void;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tables, rollups, views and indexes; adopts a pre-versioned review-bot database",
    up(driver) {
      const legacy = setAsideLegacyTables(driver);
      driver.exec(SCHEMA_V1);
      copyLegacyRows(driver, legacy);
    },
  },
  {
    version: 2,
    description: "hourly rollups at the coarsest grain, rolled up by the writer from closed hours of raw rows",
    up(driver) {
      driver.exec(SCHEMA_V2);
      startHourlyRollups(driver, purgedBefore(driver, "executions"));
    },
  },
  {
    version: 3,
    description: "the hourly twin of daily_usage (event type and conclusion by the hour)",
    up(driver) {
      driver.exec(SCHEMA_V3);
      // One span covers every hourly table: the hours rolled up so far are rolled up again,
      // both tables from the raw rows still held (additive: raw rows and daily rollups untouched).
      driver.exec("DELETE FROM hourly_model_usage");
      startHourlyRollups(driver, purgedBefore(driver, "executions"));
    },
  },
  {
    version: 4,
    description: "daily rollups of degraded runs, cache lookups and the sessions that called each tool",
    up(driver) {
      driver.exec(SCHEMA_V4);
      driver.exec(BACKFILL_V4);
    },
  },
  {
    version: 5,
    description: "runs by quarter hour alone, so reports by time read rollups in every zone (+05:30, +05:45 too)",
    up(driver) {
      driver.exec(SCHEMA_V5);
      backfillQuarterHours(driver, purgedBefore(driver, "executions"));
    },
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** A database written by newer code than this. */
export class SchemaTooNewError extends Error {
  override readonly name = "SchemaTooNewError";
  constructor(readonly found: number) {
    super(
      `database schema version ${found} is newer than this Tally understands (${SCHEMA_VERSION}); ` +
        `it was opened read-only: upgrade tally to write to it`,
    );
  }
}

export function readSchemaVersion(driver: SqliteDriver): number {
  return Number(driver.prepare("PRAGMA user_version").get()?.user_version ?? 0);
}

/**
 * Brings the schema up to date in one transaction. The version is read again inside the
 * write lock, so two processes opening a new file at once migrate it once.
 */
export function migrate(driver: SqliteDriver): { from: number; to: number } {
  const seen = readSchemaVersion(driver);
  if (seen > SCHEMA_VERSION) throw new SchemaTooNewError(seen);
  if (seen === SCHEMA_VERSION) return { from: seen, to: seen };
  return inTransaction(driver, () => {
    const from = readSchemaVersion(driver);
    if (from > SCHEMA_VERSION) throw new SchemaTooNewError(from);
    for (const migration of MIGRATIONS) {
      if (migration.version > from) migration.up(driver);
    }
    driver.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    return { from, to: SCHEMA_VERSION };
  });
}
