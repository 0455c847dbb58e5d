/**
 * The PostgreSQL store, for when one machine is not enough: many `tally serve` processes and
 * producers on one database. Same `Store` interface and report results as SQLite, through the
 * report engine's PostgreSQL dialect. Needs the `postgres` package (an optional peer).
 * @module tally/postgres
 */
import { checkDays, nonNegativeInteger } from "../options.ts";
import type { Sql } from "postgres";
import type { Batch, StoredRecord } from "../../core/rows.ts";
import type { WriteResult } from "../../core/store.ts";
import { StoreUnavailableError, TallyConfigError, toError } from "../../core/errors.ts";
import { safeLog, silentLogger, type Logger } from "../../core/logger.ts";
import { DAY_MS } from "../../core/time-units.ts";
import type { ReadableStore } from "../../report/readable-store.ts";
import { reportProgram } from "../../report/report-program.ts";
import type { Report, ReportSpec } from "../../report/spec.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";
import { runAsyncProgram, type ReportProgram, type SqlRows } from "../../report/sql/query.ts";
import { checkSchemaName, inSchemaStatement, inSchemaTransaction, isBehindPooler, openPool } from "./connection.ts";
import { postgresDialect } from "./dialect.ts";
import { classifyPostgresError, isConnectionError } from "./errors.ts";
import { migrate, PostgresSchemaTooNewError, readSchemaVersion } from "./migrate.ts";
import { Partitions } from "./partitions.ts";
import { purge, readWatermarks, type Watermarks } from "./purge.ts";
import { PARTITIONED, PARTITIONED_TABLES, POSTGRES_SCHEMA_VERSION, RAW_TABLES } from "./schema.ts";
import { IdsStoredAlreadyError, writeBatch, type PostgresBatchOutcome } from "./write.ts";
import { isPostgresUrl, redactUrl, urlQueryProblem } from "./url.ts";
import { ImportStates, type ImportFileState } from "./import-state.ts";

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq-style query parameters such as `sslmode` work). */
  url: string;
  /** The schema Tally's tables live in; created if missing. Lower-case letters, digits and `_`. @default "tally" */
  schema?: string;
  /** Raw rows older than this are purged at open and daily (whole monthly partitions dropped). `0` turns it off. @default 90 */
  retentionDays?: number;
  /** Rollup days older than this are purged with the raw rows. @default 400 */
  rollupRetentionDays?: number;
  /** Connections in the pool. @default 4 */
  maxConnections?: number;
  /** Seconds to wait for a connection. @default 10 */
  connectTimeoutSeconds?: number;
  /** Open the store for reading only: no migration, no purge, writes refused. @default false */
  readonly?: boolean;
  /** Connection problems and schema messages go here (never the URL's password). @default silent */
  logger?: Logger;
  /**
   * Write new rows of large batches by COPY (~2.4× the records per second of the row-by-row
   * statement in 5,000-record writes; a batch holding an id stored already falls back to it).
   * Turn off for servers that cannot `COPY … FROM STDIN`, such as PGlite behind
   * pglite-socket. @default true, false behind a connection pooler (see `behindPooler`)
   */
  copy?: boolean;
  /** For tests: the clock purges and expiry measure from. @default Date.now */
  now?: () => number;
}

/** Options of {@link PostgresStore.write}. */
export interface PostgresWriteOptions {
  /** As `SqliteStore.write`'s: a stored execution is replaced by a later snapshot of the same response (importers). */
  replaceSnapshots?: boolean;
  /** Import progress saved in the same transaction as the batch. */
  importFiles?: readonly ImportFileState[];
}

/** A PostgreSQL-backed store; every method returns a promise and none throws for I/O. */
export interface PostgresStore extends ReadableStore {
  write(batch: Batch, options?: PostgresWriteOptions): Promise<WriteResult>;
  report<S extends ReportSpec>(spec: S): Promise<Report<S>>;
  read<R>(program: (dialect: SqlDialect) => ReportProgram<R>): Promise<R>;
  purgeOlderThan(days: number): Promise<number>;
  /** Nothing to do: PostgreSQL checkpoints on its own. */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once the store is connected and migrated, or has given up (see `unwritableReason`). */
  readonly ready: Promise<void>;
  /** Why the store cannot write now (newer schema, read-only, unreachable), or null. */
  readonly unwritableReason: string | null;
  /** Schema version of the database once open (0 before). */
  readonly schemaVersion: number;
  /**
   * Whether a connection pooler (PgBouncer, a managed database's pooler) sits between Tally
   * and PostgreSQL, once connected (null before): then statements go unprepared and new rows
   * row by row, unless the URL's `prepare` or the `copy` option say otherwise.
   */
  readonly behindPooler: boolean | null;
  /** The URL without its password, for messages. */
  readonly displayUrl: string;
  readonly schema: string;
  /** Epoch ms below which executions were purged, or null: importers skip older records. */
  executionsPurgedBefore(): Promise<number | null>;
  /** How far an import read a file, or undefined. */
  importState(source: string, path: string): Promise<ImportFileState | undefined>;
  importStates(source: string): Promise<Map<string, ImportFileState>>;
  saveImportState(state: ImportFileState): Promise<WriteResult>;
  /** A value of `tally_meta`, or null. */
  meta(key: string): Promise<string | number | null>;
  /** Keeps a value in `tally_meta`; false when the store cannot write. */
  setMeta(key: string, value: string | number): Promise<boolean>;
  /** How many raw rows `purgeOlderThan(days)` would delete now. */
  countOlderThan(days: number): Promise<number>;
  /** Month partitions that exist now, per partitioned table (UTC month starts). */
  partitions(): Promise<Record<string, string[]>>;
}


/** Months ahead whose partitions exist before any row needs them. */
const MONTHS_AHEAD = 2;
/** Records dated further ahead than this are refused: a partition per hostile far-future month would pile up. */
const MAX_FUTURE_MS = 366 * DAY_MS;

/**
 * Opens a PostgreSQL store. Returns at once; connecting and migrating (under an advisory
 * lock, so many servers may start together) happen in the background and every method waits
 * for them. An unreachable server makes writes retryable (records stay queued) and each write
 * tries to connect again; a newer schema makes them fail for good. Invalid options throw
 * {@link TallyConfigError}.
 */
export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (typeof options?.url !== "string" || !isPostgresUrl(options.url)) throw new TallyConfigError("openPostgresStore needs a postgres:// url");
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(options.url);
  } catch {
    throw new TallyConfigError(`not a valid URL: ${redactUrl(options.url)}`);
  }
  const queryProblem = urlQueryProblem(parsedUrl);
  if (queryProblem !== null) throw new TallyConfigError(`${queryProblem} (in ${redactUrl(options.url)})`);
  const schema = options.schema ?? "tally";
  if (!checkSchemaName(schema)) throw new TallyConfigError(`schema must be lower-case letters, digits and _ (at most 63), got ${JSON.stringify(schema)}`);
  const retentionDays = nonNegativeInteger("retentionDays", options.retentionDays, 90);
  const rollupRetentionDays = nonNegativeInteger("rollupRetentionDays", options.rollupRetentionDays, 400);
  const maxConnections = nonNegativeInteger("maxConnections", options.maxConnections, 4) || 1;
  const connectTimeoutSeconds = nonNegativeInteger("connectTimeoutSeconds", options.connectTimeoutSeconds, 10) || 1;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const readonly = options.readonly === true;
  if (options.copy !== undefined && typeof options.copy !== "boolean") throw new TallyConfigError(`copy must be true or false, got ${JSON.stringify(options.copy)}`);
  /** COPY for large writes: as the option says, else unless behind a pooler (set at connect). */
  let copy = options.copy ?? true;
  /**
   * Named prepared statements (a 25-run write and a small report take ~25 % longer without
   * them): as the URL's `prepare` says, else unless behind a pooler. A pooler in transaction
   * mode may run a transaction on a server connection that never saw a statement prepared,
   * and when that statement is postgres.js's own COMMIT, postgres.js sends it again inside the
   * transaction the error aborted, where PostgreSQL answers COMMIT with ROLLBACK and no error:
   * a write would look stored and not be.
   */
  const preparedParam = parsedUrl.searchParams.get("prepare");
  /** Whether a pooler sits in between: null until connected. */
  let behindPooler: boolean | null = null;
  /** Whether the next write tries COPY (see `write`). */
  let copyNext = true;
  const displayUrl = redactUrl(options.url);

  let sql: Sql | null = null;
  let partitions: Partitions | null = null;
  let imports: ImportStates | null = null;
  let schemaVersion = 0;
  /** A reason writes fail for good (newer schema, read-only); null while writable or still connecting. */
  let permanentReason: string | null = readonly ? "opened read-only" : null;
  let connectionTrouble: string | null = null;
  let closed = false;
  let opening: Promise<void> | null = null;
  let maintenanceTimer: ReturnType<typeof setInterval> | undefined;

  async function open(): Promise<void> {
    try {
      sql ??= await openPoolFor();
      if (readonly) {
        schemaVersion = await readSchemaVersion(sql, schema);
        if (schemaVersion === 0) throw new StoreUnavailableError(`no Tally schema "${schema}" in ${displayUrl}`);
        if (schemaVersion > POSTGRES_SCHEMA_VERSION) permanentReason = new PostgresSchemaTooNewError(schemaVersion).message;
      } else {
        schemaVersion = (await migrate(sql, schema)).to;
        partitions = new Partitions(sql, schema);
        await partitions.refresh();
        await partitions.ensure(monthsAhead(now()));
      }
      imports = new ImportStates(sql, schema);
      if (connectionTrouble !== null) safeLog(logger, "info", { url: displayUrl }, "tally: connected to PostgreSQL again");
      connectionTrouble = null;
      if (!readonly && permanentReason === null && maintenanceTimer === undefined) {
        void runMaintenance();
        if (retentionDays > 0) {
          maintenanceTimer = setInterval(() => void runMaintenance(), DAY_MS);
          maintenanceTimer.unref?.();
        }
      }
    } catch (error) {
      if (error instanceof PostgresSchemaTooNewError) {
        permanentReason = error.message;
        schemaVersion = error.found;
        safeLog(logger, "error", { url: displayUrl, found: error.found, supported: POSTGRES_SCHEMA_VERSION }, `tally: ${error.message}`);
        return;
      }
      const message = toError(error).message;
      if (connectionTrouble === null) safeLog(logger, "warn", { url: displayUrl, error: message }, "tally: cannot reach PostgreSQL; records stay queued and writes are retried");
      connectionTrouble = `cannot open ${displayUrl}: ${message}`;
      opening = null; // the next call tries again
      throw error;
    }
  }

  /**
   * The pool, set up for what is at the other end: a first pool finds out whether a pooler
   * answers (`isBehindPooler`), and one behind a pooler is opened again without prepared
   * statements unless the URL asks for them; COPY goes off there unless the option says
   * otherwise, because PgBouncer leaves a server connection stuck after a refused COPY
   * (pgbouncer/pgbouncer#1470) until its pool is exhausted. (The first pool's connection has
   * prepared postgres.js's array-type lookup by then, under a name no other client uses.)
   */
  async function openPoolFor(): Promise<Sql> {
    const settings = { url: options.url, maxConnections, connectTimeoutSeconds };
    const pool = await openPool({ ...settings, prepare: preparedParam !== "false" });
    try {
      behindPooler = await isBehindPooler(pool);
    } catch (error) {
      await pool.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
    if (!behindPooler) return pool;
    if (options.copy === undefined) copy = false;
    safeLog(logger, "info", { url: displayUrl, preparedStatements: preparedParam === "true", copy },
      "tally: a connection pooler answers for PostgreSQL; statements go unprepared and new rows row by row unless the URL's prepare=true or the copy option say otherwise");
    if (preparedParam === "true") return pool;
    await pool.end({ timeout: 0 });
    return openPool({ ...settings, prepare: false });
  }

  /** Connected and migrated, or throws why not (the caller turns it into its own answer). */
  async function connected(): Promise<Sql> {
    if (closed) throw new StoreUnavailableError("store is closed");
    opening ??= open();
    await opening;
    if (sql === null) throw new StoreUnavailableError(connectionTrouble ?? "store is not open");
    return sql;
  }

  async function runMaintenance(): Promise<void> {
    try {
      if (retentionDays > 0) await store.purgeOlderThan(retentionDays);
      else await partitions?.ensure(monthsAhead(now()));
    } catch (error) {
      safeLog(logger, "warn", { error: toError(error).message }, "tally: retention purge failed; will try again");
    }
  }

  function monthsAhead(at: number): number[] {
    const months: number[] = [];
    const d = new Date(at);
    for (let i = 0; i <= MONTHS_AHEAD; i++) months.push(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i, 1));
    return months;
  }

  /** Splits off records that cannot be stored: older than the purge watermark of their table, or far in the future. */
  function checkAges(batch: Batch, watermarks: Watermarks, at: number): { keep: StoredRecord[]; keptIndexes: number[]; refused: number[]; reasons: Set<string> } {
    const keep: StoredRecord[] = [];
    const keptIndexes: number[] = [];
    const refused: number[] = [];
    const reasons = new Set<string>();
    batch.forEach((record, index) => {
      const createdAt = record.kind === "sessionEnd" ? null : record.row.createdAt;
      const table = TABLE_OF[record.kind];
      const mark = watermarks.get(table);
      if (createdAt !== null && mark !== undefined && createdAt < mark) {
        refused.push(index);
        reasons.add(`expired: older than the retention cut-off (${new Date(mark).toISOString()}); its raw row could not be told from a first copy`);
      } else if (createdAt !== null && createdAt > at + MAX_FUTURE_MS && PARTITIONED.has(table)) {
        refused.push(index);
        reasons.add("createdAt is more than a year ahead of the server's clock");
      } else {
        keep.push(record);
        keptIndexes.push(index);
      }
    });
    return { keep, keptIndexes, refused, reasons };
  }

  const store: PostgresStore = {
    displayUrl,
    schema,
    // A write's cost here is mostly per statement and per round trip: 5,000-record writes
    // drained a backlog ~1.5× faster than 500 (BENCHMARKS.md, PostgreSQL).
    preferredMaxBatchSize: 5000,
    get ready() {
      return connected().then(() => undefined, () => undefined);
    },
    get unwritableReason() {
      if (closed) return "store is closed";
      return connectionTrouble ?? permanentReason;
    },
    get schemaVersion() {
      return schemaVersion;
    },
    get behindPooler() {
      return behindPooler;
    },

    async write(batch, writeOptions = {}) {
      if (closed) return { ok: false, failure: "failed", error: new Error("store is closed") };
      if (permanentReason !== null) return { ok: false, failure: "failed", error: new Error(permanentReason) };
      const importFiles = writeOptions.importFiles ?? [];
      if (batch.length === 0 && importFiles.length === 0) return { ok: true, inserted: 0 };
      let step = "connect";
      try {
        const db = await connected();
        if (permanentReason !== null) return { ok: false, failure: "failed", error: new Error(permanentReason) };
        step = "read retention watermarks";
        const { keep, keptIndexes, refused, reasons } = checkAges(batch, await readWatermarks(db, schema), now());
        step = "create partitions";
        await partitions!.ensure(keep.filter((r) => PARTITIONED.has(TABLE_OF[r.kind])).map((r) => (r.row as { createdAt: number }).createdAt));
        step = "write";
        const writeAll = (byCopy: boolean) => inSchemaTransaction(db, schema, "", async (tx) => {
          const done = await writeBatch(tx, keep, { replaceSnapshots: writeOptions.replaceSnapshots, copy: byCopy });
          if (importFiles.length > 0) await imports!.save(tx, importFiles);
          return done;
        });
        let outcome: PostgresBatchOutcome;
        try {
          outcome = await writeAll(copy && copyNext);
        } catch (error) {
          if (!(error instanceof IdsStoredAlreadyError)) throw error;
          outcome = await writeAll(false); // some records are stored already: row by row finds which
        }
        // Replays come in runs (a re-import, a producer retrying a backlog): after a batch with
        // stored records, the next goes row by row, until one has none.
        copyNext = outcome.duplicates === 0;
        const duplicateIndexes = outcome.duplicateIndexes.map((i) => keptIndexes[i]!);
        return {
          ok: true, inserted: outcome.inserted, duplicates: outcome.duplicates, duplicateIndexes, collisions: outcome.collisions, replaced: outcome.replaced,
          ...(refused.length > 0 ? { refused: refused.length, refusedIndexes: refused, refusal: [...reasons].join("; ") } : {}),
        };
      } catch (error) {
        if (error instanceof StoreUnavailableError && closed) return { ok: false, failure: "failed", error };
        if (!(error instanceof Error) || isConnectionError(error) || step === "connect") {
          return { ok: false, failure: "retryable", error: new Error(`${step}: ${toError(error).message}`, { cause: error }) };
        }
        return classifyPostgresError(error, step);
      }
    },

    async report<S extends ReportSpec>(spec: S): Promise<Report<S>> {
      return store.read((dialect) => reportProgram(dialect, spec));
    },

    async read<R>(program: (dialect: SqlDialect) => ReportProgram<R>): Promise<R> {
      let db: Sql;
      try {
        db = await connected();
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        throw new StoreUnavailableError(connectionTrouble ?? toError(error).message, { cause: error });
      }
      // One snapshot for every statement: a report adds whole days and takes some of their hours away again.
      return await inSchemaTransaction(db, schema, "isolation level repeatable read read only", (tx) =>
        runAsyncProgram(program(postgresDialect), (query) => tx.unsafe(query.sql, query.params as never[], { prepare: true }) as unknown as Promise<SqlRows>),
      );
    },

    async purgeOlderThan(days) {
      checkDays("purgeOlderThan", days);
      if (closed || readonly || permanentReason !== null) return 0;
      const db = await connected();
      const deleted = await purge(db, schema, partitions!, { rawCutoff: now() - days * DAY_MS, rollupCutoff: now() - Math.max(days, rollupRetentionDays) * DAY_MS });
      await partitions!.ensure(monthsAhead(now()));
      return deleted;
    },

    async checkpoint() {},

    async executionsPurgedBefore() {
      const db = await connected();
      return (await readWatermarks(db, schema)).get("executions") ?? null;
    },

    async importState(source, path) {
      await connected();
      return imports!.read(source, path);
    },

    async importStates(source) {
      await connected();
      return imports!.readAll(source);
    },

    async saveImportState(state) {
      return store.write([], { importFiles: [state] });
    },

    async meta(key) {
      const db = await connected();
      const [row] = await inSchemaStatement(db, schema, "SELECT value FROM tally_meta WHERE key = $1", [key]);
      if (row === undefined || row.value === null) return null;
      const value = String(row.value);
      return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    },

    async setMeta(key, value) {
      if (closed || readonly || permanentReason !== null) return false;
      try {
        const db = await connected();
        await inSchemaStatement(db, schema, "INSERT INTO tally_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, String(value)]);
        return true;
      } catch (error) {
        safeLog(logger, "warn", { key, error: toError(error).message }, "tally: saving a meta value failed");
        return false;
      }
    },

    async countOlderThan(days) {
      checkDays("countOlderThan", days);
      const db = await connected();
      let rows = 0;
      for (const table of RAW_TABLES) {
        const [row] = await inSchemaStatement(db, schema, `SELECT count(*) AS n FROM ${table} WHERE created_at < $1`, [now() - days * DAY_MS]);
        rows += Number(row?.n ?? 0);
      }
      return rows;
    },

    async partitions() {
      const catalog = partitions ?? new Partitions(await connected(), schema);
      await catalog.refresh();
      const out: Record<string, string[]> = {};
      for (const table of PARTITIONED_TABLES) out[table] = catalog.months(table).map((m) => new Date(m).toISOString().slice(0, 7));
      return out;
    },

    async close() {
      if (closed) return;
      closed = true;
      if (maintenanceTimer !== undefined) clearInterval(maintenanceTimer);
      try {
        await opening?.catch(() => {});
        await sql?.end({ timeout: 5 });
      } catch (error) {
        safeLog(logger, "warn", { error: toError(error).message }, "tally: closing the PostgreSQL pool failed");
      }
      sql = null;
    },
  };
  opening = open();
  opening.catch(() => {}); // reported through writes and reads; never an unhandled rejection
  return store;
}

/** The raw table each kind of record is kept in (and whose purge watermark it is checked against). */
const TABLE_OF: Record<StoredRecord["kind"], string> = {
  execution: "executions", toolCall: "tool_calls", cacheEvent: "cache_events", rateLimitEvent: "rate_limit_events",
  sessionStart: "sessions", sessionEnd: "sessions",
};

export { POSTGRES_SCHEMA_VERSION } from "./schema.ts";
export { isPostgresUrl, redactUrl } from "./url.ts";
export type { ImportFileState } from "./import-state.ts";
