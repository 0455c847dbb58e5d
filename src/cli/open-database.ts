import { statSync } from "node:fs";
import { openSqliteStore, SCHEMA_VERSION, type SqliteStore } from "../store/sqlite/index.ts";
import type { Report, ReportSpec } from "../report/spec.ts";
import { CliError } from "./errors.ts";
import { openPostgresForCli, usesPostgres } from "./open-postgres.ts";
import type { CommandContext } from "./command.ts";

/** Why a database path cannot be opened as a file, worded for the CLI's error line and hint. */
export interface PathProblem {
  kind: "missing" | "directory" | "unreadable";
  message: string;
  hint: string;
}

/** One stat of the database path: a missing file, a directory or an unreadable path, or null when it is a file. */
export function databasePathProblem(dbPath: string): PathProblem | null {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dbPath).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file, so there is no database there either.
    if (code === "ENOENT" || code === "ENOTDIR") {
      return { kind: "missing", message: `no database at ${dbPath}`, hint: "record something first, or point at one with --db PATH or TALLY_DB" };
    }
    return { kind: "unreadable", message: `cannot read ${dbPath}: ${code ?? String(error)}`, hint: "check the path and its permissions" };
  }
  return isDirectory ? { kind: "directory", message: `${dbPath} is a directory, not a database file`, hint: "pass the file itself with --db PATH" } : null;
}

/**
 * Throws the path's problem as a CliError. `allowMissing` lets a file that is not there yet
 * through (it will be created); `missingHint` words the hint for a command that needs one.
 */
export function checkPath(dbPath: string, options: { allowMissing?: boolean; missingHint?: string } = {}): void {
  const problem = databasePathProblem(dbPath);
  if (problem === null) return;
  if (problem.kind === "missing") {
    if (options.allowMissing === true) return;
    throw new CliError(problem.message, options.missingHint ?? problem.hint);
  }
  throw new CliError(problem.message, problem.hint);
}

/**
 * Answers one report from the database, opened read-only for just that (see openForReading),
 * or from PostgreSQL when the database is a postgres:// URL.
 */
export async function readReport<S extends ReportSpec>(context: CommandContext, spec: S): Promise<Report<S>> {
  if (usesPostgres(context)) {
    const store = await openPostgresForCli(context, { readonly: true });
    try {
      return await store.report(spec);
    } finally {
      await store.close();
    }
  }
  const store = openForReading(context);
  try {
    return store.report(spec);
  } finally {
    store.close();
  }
}

/**
 * Opens the database read-only for a report: no migration, no purge, and a service can keep
 * writing meanwhile (WAL). Refuses with a hint when the file is missing, corrupt or too old.
 */
function openForReading(context: CommandContext): SqliteStore {
  checkPath(context.dbPath);
  const store = openSqliteStore({ path: context.dbPath, readonly: true, retentionDays: 0 });
  const reason = store.unwritableReason ?? "";
  if (reason.startsWith("cannot open")) {
    store.close();
    throw new CliError(reason, "is it a Tally database? `tally doctor` tells more");
  }
  if (store.schemaVersion < SCHEMA_VERSION) {
    store.close();
    throw new CliError(
      `${context.dbPath} has schema version ${store.schemaVersion}; this tally reads version ${SCHEMA_VERSION}`,
      `upgrade it once with \`tally migrate --db ${context.dbPath}\` (additive: nothing is deleted)`,
    );
  }
  return store;
}

/** Opens the database for maintenance (purge, checkpoint, import): migrates, never purges on its own. */
export function openForWriting(context: CommandContext, options: { mustExist?: boolean; checkpointEveryRows?: number } = {}): SqliteStore {
  checkPath(context.dbPath, { allowMissing: options.mustExist === false });
  // Purge measures ages from the CLI's clock, the same one that printed the cut-off.
  // The checkpoint worker starts only if a checkpoint is due: most commands write too little
  // to need one, and starting it costs ~40 ms, a sixth of a later `tally import`; a long first
  // import still gets its checkpoints off its own thread (measured: ~8 % faster on 1 GB).
  const store = openSqliteStore({
    path: context.dbPath,
    retentionDays: 0,
    checkpointInBackground: "lazily",
    ...(options.checkpointEveryRows !== undefined ? { checkpointEveryRows: options.checkpointEveryRows } : {}),
    now: () => context.io.now(),
  });
  if (store.unwritableReason !== null) {
    const reason = store.unwritableReason;
    store.close();
    throw new CliError(reason, "check the path and its permissions; `tally doctor` tells more");
  }
  return store;
}
