/**
 * The embedded SQLite store: bun:sqlite under Bun, better-sqlite3 under Node.
 * @module tally/sqlite
 */
import { checkDays, nonNegativeInteger } from "../options.ts";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Batch } from "../../core/rows.ts";
import type { Store, WriteResult } from "../../core/store.ts";
import { StoreUnavailableError, TallyConfigError, toError } from "../../core/errors.ts";
import type { ReadableStore } from "../../report/readable-store.ts";
import type { Report, ReportSpec } from "../../report/spec.ts";
import { reportProgram } from "../../report/report-program.ts";
import { runProgram, type ReportProgram } from "../../report/sql/query.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";
import { sqliteDialect } from "./dialect.ts";
import { safeLog, silentLogger, type Logger } from "../../core/logger.ts";
import { inReadTransaction, inTransaction, type SqliteDriver } from "./driver.ts";
import { defaultDriverName, openDriver, type DriverName } from "./load-driver.ts";
import { migrate, readSchemaVersion, SchemaTooNewError, SCHEMA_VERSION } from "./migrations.ts";
import { purgedBefore, purgeRawRows, purgeRollups } from "./purge.ts";
import { classifyWriteError, sqliteCode } from "./sqlite-errors.ts";
import { BatchWriter } from "./write-batch.ts";
import { HourlyRollup } from "./hourly-rollup.ts";
import { startWorkerCheckpointer, type Checkpointer } from "./checkpointer.ts";
import { readImportState, readImportStates, writeImportStates, type ImportFileState, type WriteOptions } from "./import-state.ts";
import { countOlderThan, inspectDatabase, type DatabaseInspection } from "./inspect.ts";
import { readMeta, writeMeta } from "./meta.ts";
import { DAY_MS } from "../../core/time-units.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** File path, created with its parent directory if missing; `":memory:"` works. */
  path: string;
  /** Open without writing anything: no migration, no purge. @default false */
  readonly?: boolean;
  /** Raw rows older than this are purged at open and daily. `0` turns purging off. @default 90 */
  retentionDays?: number;
  /** Rollup days older than this are purged with the raw rows. @default 400 */
  rollupRetentionDays?: number;
  /** A PASSIVE checkpoint runs after this many inserted rows. @default 1000 */
  checkpointEveryRows?: number;
  /**
   * Run those automatic checkpoints on a worker thread with its own connection, so their
   * fsync never stalls the host's event loop (falls back to this thread if no worker starts).
   * `"lazily"` starts the worker at the first automatic checkpoint instead of at open (~15 ms
   * of this thread's time, then): for short-lived writers such as a command that may never
   * need one. @default true for files, false for ":memory:"
   */
  checkpointInBackground?: boolean | "lazily";
  /** Milliseconds a writer waits for a lock held by another process. @default 5000 */
  busyTimeoutMs?: number;
  /** Open errors and schema messages go here. @default silent */
  logger?: Logger;
  /** Force a driver; the default follows the runtime. */
  driver?: DriverName;
  /** For tests: the time purge measures ages from, and after which an hour counts as closed. @default Date.now */
  now?: () => number;
}

/** A SQLite-backed {@link Store}; every method is synchronous. */
export interface SqliteStore extends ReadableStore {
  report<S extends ReportSpec>(spec: S): Report<S>;
  read<R>(program: (dialect: SqlDialect) => ReportProgram<R>): R;
  /** Writes a batch in one transaction; `options.importFiles` saves import progress in that same transaction. */
  write(batch: Batch, options?: WriteOptions): WriteResult;
  /** How far an import read a file, or undefined (never imported, or the store is not open). */
  importState(source: string, path: string): ImportFileState | undefined;
  /** Every file an importer has read, by path (empty when the store is not open). */
  importStates(source: string): Map<string, ImportFileState>;
  /** Saves import progress alone, for a file that yielded no rows; otherwise prefer `write(batch, { importFiles })`. */
  saveImportState(state: ImportFileState): WriteResult;
  purgeOlderThan(days: number): number;
  close(): void;
  /** The file this store writes. */
  readonly path: string;
  /** Which driver it runs on. */
  readonly driverName: DriverName;
  /** Why the store cannot write (corrupt file, newer schema, read-only…), or null. */
  readonly unwritableReason: string | null;
  /** Schema version of the open database. */
  readonly schemaVersion: number;
  /** Automatic checkpoints completed on the background worker (0 when checkpointing in-thread). */
  readonly backgroundCheckpoints: number;
  /** The connection's own settings, read back from SQLite (null when the file could not be opened). */
  settings(): SqliteSettings | null;
  /** Integrity, sizes, row counts and time spans, for `tally doctor`. Throws when not open. */
  inspect(options?: { quick?: boolean }): DatabaseInspection;
  /** How many raw rows `purgeOlderThan(days)` would delete now. */
  countOlderThan(days: number): number;
  /**
   * Epoch ms below which executions were purged, or null. Importers skip records older than
   * this: their ids are gone, so a second copy could not be recognised, while the rollups
   * still hold the first.
   */
  executionsPurgedBefore(): number | null;
  /** A value kept in the database's `tally_meta` table, or null (also when the store is not open). */
  meta(key: string): string | number | null;
  /** Keeps a value in `tally_meta`; false when the store cannot write. */
  setMeta(key: string, value: string | number): boolean;
  /** PASSIVE WAL checkpoint: never waits for readers. */
  checkpoint(): void;
  /**
   * A checkpoint that reports what it did. TRUNCATE waits for readers and empties the WAL
   * file (for `tally checkpoint --truncate`). Undefined when there is no WAL (closed, memory).
   */
  walCheckpoint(mode: "PASSIVE" | "TRUNCATE"): { busy: boolean; logFrames: number; checkpointedFrames: number } | undefined;
}

/** What the store's connection runs with. */
export interface SqliteSettings {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  busyTimeoutMs: number;
}


/**
 * SQLite silently opens a file it may not write (an immutable file, a read-only mount) in
 * read-only mode. A write rolled back at once tells, without changing anything.
 */
function readOnlyReason(driver: SqliteDriver, schemaVersion: number): string | null {
  try {
    inTransaction(driver, () => {
      driver.exec(`PRAGMA user_version = ${schemaVersion}`);
      throw ROLLBACK_PROBE;
    });
  } catch (error) {
    if (error === ROLLBACK_PROBE) return null;
    const code = sqliteCode(error);
    if (code?.startsWith("SQLITE_READONLY")) return `the database file is read-only for this process (${code})`;
  }
  return null; // busy or another passing condition: not a reason to give up on the file
}

const ROLLBACK_PROBE = new Error("probe: roll back");


/**
 * Opens (creating and migrating as needed) a Tally database. Never throws for I/O: a file
 * that cannot be opened or written (corrupt, newer schema, read-only, bad directory) gives a
 * store that logs the reason once and answers every write with `failure: "failed"`, so the
 * service starts and the drops are counted. Invalid options throw {@link TallyConfigError}.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (typeof options?.path !== "string" || options.path.length === 0) throw new TallyConfigError("openSqliteStore needs a path");
  const retentionDays = nonNegativeInteger("retentionDays", options.retentionDays, 90);
  const rollupRetentionDays = nonNegativeInteger("rollupRetentionDays", options.rollupRetentionDays, 400);
  const checkpointEveryRows = nonNegativeInteger("checkpointEveryRows", options.checkpointEveryRows, 1000);
  const busyTimeoutMs = nonNegativeInteger("busyTimeoutMs", options.busyTimeoutMs, 5000);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const path = options.path;
  const inMemory = path === ":memory:" || path.startsWith("file::memory:");

  let driver: SqliteDriver | null = null;
  let writer: BatchWriter | null = null;
  let hourly: HourlyRollup | null = null;
  let unwritableReason: string | null = null;
  let schemaVersion = 0;
  let rowsSinceCheckpoint = 0;
  let purgeTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let checkpointer: Checkpointer | null = null;
  /** Set by `checkpointInBackground: "lazily"` until the first automatic checkpoint starts the worker. */
  let startCheckpointerLazily = false;

  const startCheckpointer = () => startWorkerCheckpointer({ path, driver: driverName, busyTimeoutMs, logger });

  function configure(connection: SqliteDriver, readonly: boolean): void {
    connection.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    if (!readonly) {
      connection.exec("PRAGMA journal_mode = WAL");
      connection.exec("PRAGMA synchronous = NORMAL");
    }
  }

  function openConnection(readonly: boolean): SqliteDriver {
    if (!readonly && !inMemory) mkdirSync(dirname(path), { recursive: true });
    const connection = openDriver({ path, readonly, driver: driverName });
    try {
      configure(connection, readonly);
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  // One answer for the whole store: the connection, the background checkpointer, the getter.
  const driverName: DriverName = options.driver ?? defaultDriverName();

  function runMaintenance(): void {
    try {
      if (retentionDays > 0) store.purgeOlderThan(retentionDays);
      store.checkpoint();
    } catch (error) {
      safeLog(logger, "warn", { error: toError(error).message }, "tally: retention purge failed; will try again");
    }
  }

  function failed(message: string): WriteResult {
    return { ok: false, failure: "failed", error: new Error(message) };
  }

  /** The connection reads go through; a closed or unopened store says why (StoreUnavailableError). */
  const readableDriver = (): SqliteDriver => {
    if (closed || driver === null) throw new StoreUnavailableError(closed ? "store is closed" : (unwritableReason ?? "store is not open"));
    return driver;
  };

  const store: SqliteStore = {
    path,
    get driverName() {
      return driverName;
    },
    get unwritableReason() {
      return closed ? "store is closed" : unwritableReason;
    },
    get schemaVersion() {
      return schemaVersion;
    },
    get backgroundCheckpoints() {
      return checkpointer?.completed ?? 0;
    },

    report<S extends ReportSpec>(spec: S): Report<S> {
      return store.read((dialect) => reportProgram(dialect, spec));
    },

    read(program) {
      const connection = readableDriver();
      return inReadTransaction(connection, () => runProgram(program(sqliteDialect), (query) => connection.prepare(query.sql).all(...query.params)));
    },

    settings() {
      if (closed || driver === null) return null;
      const read = (pragma: string) => Object.values(driver!.prepare(`PRAGMA ${pragma}`).get() ?? {})[0];
      return {
        journalMode: String(read("journal_mode")),
        synchronous: Number(read("synchronous")),
        busyTimeoutMs: Number(read("busy_timeout")),
      };
    },

    write(batch, writeOptions) {
      if (closed) return failed("store is closed");
      if (writer === null || driver === null) return failed(unwritableReason ?? "store is not writable");
      const importFiles = writeOptions?.importFiles ?? [];
      if (batch.length === 0 && importFiles.length === 0) return { ok: true, inserted: 0 };
      const batchWriter = writer;
      const connection = driver;
      try {
        const outcome = inTransaction(driver, () => {
          batchWriter.checkOtherWriters();
          const done = batchWriter.write(batch, writeOptions);
          hourly?.advance(done, now());
          if (importFiles.length > 0) writeImportStates(connection, importFiles);
          return done;
        });
        const { inserted } = outcome;
        rowsSinceCheckpoint += inserted;
        if (checkpointEveryRows > 0 && rowsSinceCheckpoint >= checkpointEveryRows) {
          rowsSinceCheckpoint = 0;
          if (checkpointer === null && startCheckpointerLazily) {
            startCheckpointerLazily = false;
            checkpointer = startCheckpointer();
          }
          if (checkpointer) checkpointer.request();
          else store.checkpoint();
        }
        return { ok: true, inserted, duplicates: outcome.duplicates, duplicateIndexes: outcome.duplicateIndexes, collisions: outcome.collisions, replaced: outcome.replaced };
      } catch (error) {
        batchWriter.forgetSketches(); // rolled back: the cache may hold sketches never committed
        return classifyWriteError(error, `write ${batchWriter.current}`);
      }
    },

    importState(source, filePath) {
      if (closed || driver === null) return undefined;
      return readImportState(driver, source, filePath);
    },

    importStates(source) {
      if (closed || driver === null) return new Map();
      return readImportStates(driver, source);
    },

    saveImportState(state) {
      return store.write([], { importFiles: [state] });
    },

    purgeOlderThan(days) {
      checkDays("purgeOlderThan", days);
      if (closed || writer === null || driver === null) return 0;
      const deleted = purgeRawRows(driver, days, now());
      purgeRollups(driver, Math.max(days, rollupRetentionDays), now());
      return deleted;
    },

    checkpoint() {
      store.walCheckpoint("PASSIVE");
    },

    walCheckpoint(mode) {
      if (closed || driver === null || inMemory) return undefined;
      rowsSinceCheckpoint = 0;
      try {
        const row = driver.prepare(`PRAGMA wal_checkpoint(${mode === "TRUNCATE" ? "TRUNCATE" : "PASSIVE"})`).get() ?? {};
        return { busy: Number(row.busy) === 1, logFrames: Number(row.log), checkpointedFrames: Number(row.checkpointed) };
      } catch (error) {
        safeLog(logger, "warn", { error: toError(error).message }, "tally: WAL checkpoint failed; SQLite will checkpoint on its own");
        return undefined;
      }
    },

    inspect(inspectOptions) {
      return inspectDatabase(readableDriver(), path, inspectOptions);
    },

    executionsPurgedBefore() {
      if (closed || driver === null) return null;
      return purgedBefore(driver, "executions");
    },

    meta(key) {
      if (closed || driver === null) return null;
      return readMeta(driver, key);
    },

    setMeta(key, value) {
      if (closed || driver === null || unwritableReason !== null) return false;
      try {
        writeMeta(driver, key, value);
        return true;
      } catch (error) {
        safeLog(logger, "warn", { key, error: toError(error).message }, "tally: saving a meta value failed");
        return false;
      }
    },

    countOlderThan(days) {
      checkDays("countOlderThan", days);
      if (closed || driver === null) return 0;
      return countOlderThan(driver, now() - days * DAY_MS);
    },

    close() {
      if (closed) return;
      closed = true;
      if (purgeTimer !== undefined) clearInterval(purgeTimer);
      checkpointer?.close();
      try {
        driver?.close();
      } catch (error) {
        safeLog(logger, "warn", { error: toError(error).message }, "tally: closing the database failed");
      }
      driver = null;
      writer = null;
    },
  };
  /** Opens, migrates and starts maintenance; failures leave an unwritable store, never a throw. */
  function open(): void {
    try {
      driver = openConnection(options.readonly === true);
      if (options.readonly) {
        unwritableReason = "opened read-only";
        schemaVersion = readSchemaVersion(driver);
      } else {
        try {
          schemaVersion = migrate(driver).to;
        } catch (error) {
          if (!(error instanceof SchemaTooNewError)) throw error;
          driver.close();
          driver = openConnection(true);
          schemaVersion = error.found;
          unwritableReason = error.message;
          safeLog(logger, "error", { path, found: error.found, supported: SCHEMA_VERSION }, `tally: ${error.message}`);
        }
      }
      if (unwritableReason === null) unwritableReason = readOnlyReason(driver, schemaVersion);
      if (unwritableReason !== null && !options.readonly) {
        safeLog(logger, "error", { path }, `tally: ${unwritableReason}; records will be dropped and counted`);
      }
      if (unwritableReason === null) {
        writer = new BatchWriter(driver);
        hourly = new HourlyRollup(driver);
        runMaintenance();
        if (checkpointEveryRows > 0 && !inMemory && options.checkpointInBackground !== false) {
          if (options.checkpointInBackground === "lazily") startCheckpointerLazily = true;
          else checkpointer = startCheckpointer();
        }
        if (retentionDays > 0) {
          purgeTimer = setInterval(runMaintenance, DAY_MS);
          purgeTimer.unref?.();
        }
      }
    } catch (error) {
      const cause = toError(error);
      unwritableReason = `cannot open ${path}: ${cause.message}`;
      safeLog(logger, "error", { path, error: cause.message, code: (error as { code?: string }).code }, `tally: ${unwritableReason}; records will be dropped and counted`);
      try {
        driver?.close();
      } catch {
        // Already broken; nothing more to release.
      }
      driver = null;
      writer = null;
    }

  }

  open();
  return store;
}

export { SCHEMA_VERSION } from "./migrations.ts";
export type { ImportFileState, WriteOptions } from "./import-state.ts";
export type { DatabaseInspection } from "./inspect.ts";
