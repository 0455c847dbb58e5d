import { formatCount } from "../../report/format/units.ts";
import { parseDuration, TimeParseError } from "../../report/time-range.ts";
import type { Command, CommandContext } from "../command.ts";
import { EXIT, UsageError } from "../errors.ts";
import { openForWriting } from "../open-database.ts";
import { openPostgresForCli, usesPostgres } from "../open-postgres.ts";
import { DAY_MS } from "../../core/time-units.ts";


function purgeFile(context: CommandContext, days: number, dryRun: boolean): number {
  const store = openForWriting(context);
  try {
    const rows = dryRun ? store.countOlderThan(days) : store.purgeOlderThan(days);
    if (!dryRun) store.checkpoint();
    return rows;
  } finally {
    store.close();
  }
}

async function purgePostgres(context: CommandContext, days: number, dryRun: boolean): Promise<number> {
  const store = await openPostgresForCli(context);
  try {
    return dryRun ? await store.countOlderThan(days) : await store.purgeOlderThan(days);
  } finally {
    await store.close();
  }
}

export const purgeCommand: Command = {
  name: "purge",
  summary: "delete raw rows older than a cut-off (daily rollups are kept)",
  flags: {
    "older-than": { type: "string", valueName: "AGE", description: "required: 90d, 36h, … rows older than this go" },
    "dry-run": { type: "boolean", description: "count what would go, delete nothing" },
  },
  details: `
Deletes in chunks of 1000 rows, so a service writing to the same file is never held up for
long. On PostgreSQL (--db postgres://…) whole monthly partitions before the cut-off are dropped
and the rest deleted in chunks; records older than the cut-off are refused from then on. Daily rollups keep their own retention (400 days), so reports over purged days still work.

Examples:
  tally purge --older-than 90d
  tally purge --older-than 30d --dry-run --json`,
  async run(context) {
    const age = context.values["older-than"];
    if (typeof age !== "string") throw new UsageError("--older-than is required", "e.g. tally purge --older-than 90d");
    let days: number;
    try {
      days = parseDuration(age) / DAY_MS;
    } catch (error) {
      if (error instanceof TimeParseError) throw new UsageError(error.message);
      throw error;
    }
    const cutoff = new Date(context.io.now() - days * DAY_MS).toISOString();
    const dryRun = context.values["dry-run"] === true;
    const rows = usesPostgres(context) ? await purgePostgres(context, days, dryRun) : purgeFile(context, days, dryRun);
    if (context.format === "json") {
      context.io.stdout.write(`${JSON.stringify({ dryRun, olderThan: age, cutoff, rows })}\n`);
    } else {
      const verb = dryRun ? "would remove" : "removed";
      context.io.stdout.write(`${verb} ${formatCount(rows)} raw rows older than ${cutoff} (${age}); daily rollups kept\n`);
    }
    return EXIT.ok;
  },
};
