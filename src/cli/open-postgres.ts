/**
 * `--db postgres://…` (or `TALLY_DB=postgres://…`) for the CLI: the PostgreSQL store is
 * imported only when a command is pointed at one, so file commands never load postgres.js.
 */
import type { PostgresStore, PostgresStoreOptions } from "../store/postgres/index.ts";
import { CliError } from "./errors.ts";
import { isPostgresUrl, redactUrl } from "../store/postgres/url.ts";
import type { CommandContext } from "./command.ts";

/** Whether the command's database is a PostgreSQL URL. */
export function usesPostgres(context: Pick<CommandContext, "dbPath">): boolean {
  return isPostgresUrl(context.dbPath);
}

/**
 * `TALLY_PG_COPY`: whether writes send new rows by COPY (`openPostgresStore`'s `copy`): 1/true/on
 * or 0/false/off; unset, the store's default (on, off behind a connection pooler); any other
 * value is a CliError.
 */
export function copyFromEnv(env: Record<string, string | undefined>): boolean | undefined {
  const raw = env.TALLY_PG_COPY;
  if (raw === undefined || raw === "") return undefined; // the store's default: on, off behind a pooler
  const value = raw.trim().toLowerCase();
  if (["1", "true", "on"].includes(value)) return true;
  if (["0", "false", "off"].includes(value)) return false;
  throw new CliError(`TALLY_PG_COPY must be 1/true/on or 0/false/off, not '${raw.slice(0, 32)}'`, "unset it for the default (COPY, except behind a connection pooler)");
}

/**
 * Opens the PostgreSQL store (schema from `TALLY_PG_SCHEMA`, else `tally`; COPY unless
 * `TALLY_PG_COPY=0`) and waits until it
 * has connected and, unless `readonly`, migrated — or given up: the caller reads
 * `unwritableReason` (`tally doctor` reports it). A malformed URL or schema is a CliError.
 */
export async function openPostgres(context: CommandContext, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const copy = copyFromEnv(context.io.env);
  const { openPostgresStore } = await import("../store/postgres/index.ts");
  let store: PostgresStore;
  try {
    store = openPostgresStore({
      url: context.dbPath, schema: context.io.env.TALLY_PG_SCHEMA || "tally", retentionDays: 0, connectTimeoutSeconds: 5, copy,
      now: () => context.io.now(), ...options,
    });
  } catch (error) {
    throw new CliError((error as Error).message, "a database URL looks like postgres://user:password@host:5432/database");
  }
  await store.ready;
  return store;
}

/**
 * `openPostgres`, for commands that need the store working: a server that cannot be reached, a
 * missing schema or a newer one is a CliError with a hint; the URL is shown without its password.
 */
export async function openPostgresForCli(context: CommandContext, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = await openPostgres(context, options);
  const reason = store.unwritableReason;
  if (reason !== null && !(options.readonly === true && reason === "opened read-only")) {
    await store.close();
    if (reason.includes("no Tally schema")) throw new CliError(reason, "point a writer (tally serve --db …, createTelemetry) at it first, or set TALLY_PG_SCHEMA");
    if (reason.startsWith("cannot open")) throw new CliError(reason, `is PostgreSQL running at ${redactUrl(context.dbPath)}, and may this user connect?`);
    throw new CliError(reason, "upgrade tally");
  }
  // A reader does not migrate: an older schema lacks tables the reports read.
  const { POSTGRES_SCHEMA_VERSION } = await import("../store/postgres/schema.ts");
  if (options.readonly === true && store.schemaVersion < POSTGRES_SCHEMA_VERSION) {
    await store.close();
    throw new CliError(
      `${redactUrl(context.dbPath)} has schema version ${store.schemaVersion}; this tally reads version ${POSTGRES_SCHEMA_VERSION}`,
      `upgrade it once with \`tally migrate --db ${redactUrl(context.dbPath)}\` (additive: nothing is deleted)`,
    );
  }
  return store;
}

/** Refusal for a command that only makes sense on a SQLite file. */
export function sqliteOnly(command: string): CliError {
  return new CliError(`tally ${command} works on SQLite files only`, "PostgreSQL looks after its own write-ahead log and files");
}
