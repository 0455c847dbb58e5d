import { openSqliteStore, SCHEMA_VERSION } from "../../store/sqlite/index.ts";
import type { Command } from "../command.ts";
import { CliError, EXIT } from "../errors.ts";
import { checkPath } from "../open-database.ts";
import { openPostgres, openPostgresForCli, usesPostgres } from "../open-postgres.ts";
import type { CommandContext } from "../command.ts";

/** PostgreSQL: the version before (read-only look), then a writer's open migrates under its advisory lock. */
async function migratePostgres(context: CommandContext): Promise<number> {
  const probe = await openPostgres(context, { readonly: true });
  const from = probe.schemaVersion;
  await probe.close();
  const store = await openPostgresForCli(context);
  const to = store.schemaVersion;
  await store.close();
  if (context.format === "json") context.io.stdout.write(`${JSON.stringify({ from, to })}\n`);
  else context.io.stdout.write(from === to ? `schema is up to date (version ${to})\n` : `migrated schema version ${from} → ${to}\n`);
  return EXIT.ok;
}

export const migrateCommand: Command = {
  name: "migrate",
  summary: "bring a database written by an older Tally up to this version (additive)",
  flags: {},
  details: `
Migrations add tables, columns and indexes in one transaction and never delete data; a
review-bot database from before Tally is adopted (old tables kept as legacy_*). Services
migrate on their own at open; this is for files only the CLI touches.

Example:
  tally migrate --db ./data/tally.db
  tally migrate --db postgres://tally@db.internal/tally   (TALLY_PG_SCHEMA picks the schema; default tally)`,
  async run(context) {
    if (usesPostgres(context)) return migratePostgres(context);
    checkPath(context.dbPath, { missingHint: "pass an existing file with --db PATH" });
    const probe = openSqliteStore({ path: context.dbPath, readonly: true, retentionDays: 0 });
    const from = probe.schemaVersion;
    probe.close();
    // Opened here rather than with openForWriting, whose one hint does not say "upgrade tally"
    // for a newer file. A migration writes no rows: no checkpoint is due, so no worker either.
    const store = openSqliteStore({ path: context.dbPath, retentionDays: 0, checkpointInBackground: false });
    const reason = store.unwritableReason;
    const to = store.schemaVersion;
    store.close();
    if (reason !== null) throw new CliError(reason, from > SCHEMA_VERSION ? "upgrade tally" : "check the file and its permissions");
    if (context.format === "json") context.io.stdout.write(`${JSON.stringify({ from, to })}\n`);
    else context.io.stdout.write(from === to ? `schema is up to date (version ${to})\n` : `migrated schema version ${from} → ${to}\n`);
    return EXIT.ok;
  },
};
