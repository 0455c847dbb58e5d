/** A value SQLite can bind. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** A prepared statement; positional `?` parameters only. */
export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
  all(...params: SqlValue[]): Record<string, unknown>[];
}

/**
 * The little of a SQLite driver that Tally uses, so that bun:sqlite and better-sqlite3
 * are thin adapters and everything else is written once.
 */
export interface SqliteDriver {
  readonly name: "bun:sqlite" | "better-sqlite3";
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

export interface OpenDriverOptions {
  path: string;
  readonly: boolean;
}

/**
 * Runs `work` in one read transaction: every statement sees the same snapshot, so a report
 * that adds a whole day and takes some of its hours away again never meets a write between.
 */
export function inReadTransaction<T>(driver: SqliteDriver, work: () => T): T {
  driver.exec("BEGIN");
  try {
    return work();
  } finally {
    driver.exec("COMMIT");
  }
}

/** Runs `work` in `BEGIN IMMEDIATE … COMMIT` (taking the write lock up front), rolling back if it throws. */
export function inTransaction<T>(driver: SqliteDriver, work: () => T): T {
  driver.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    driver.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      driver.exec("ROLLBACK");
    } catch {
      // SQLite may already have rolled back (e.g. SQLITE_FULL); the original error is what matters.
    }
    throw error;
  }
}
