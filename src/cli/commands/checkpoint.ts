import { formatBytes } from "../../report/format/units.ts";
import { fileSize } from "../../store/sqlite/inspect.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../errors.ts";
import { openForWriting } from "../open-database.ts";
import { sqliteOnly, usesPostgres } from "../open-postgres.ts";

export const checkpointCommand: Command = {
  name: "checkpoint",
  summary: "fold the write-ahead log back into the database file",
  flags: {
    truncate: { type: "boolean", description: "wait for readers and shrink the WAL file to zero" },
  },
  details: `
The default is PASSIVE: it copies what it can without waiting for readers, as the library does
at open and every 1000 rows. --truncate is for reclaiming disk after a burst of writes.

Examples:
  tally checkpoint
  tally checkpoint --truncate --json`,
  run(context) {
    if (usesPostgres(context)) throw sqliteOnly("checkpoint");
    const mode = context.values.truncate === true ? "TRUNCATE" : "PASSIVE";
    const before = fileSize(`${context.dbPath}-wal`);
    const store = openForWriting(context);
    let result;
    try {
      result = store.walCheckpoint(mode);
    } finally {
      store.close();
    }
    const after = fileSize(`${context.dbPath}-wal`);
    if (context.format === "json") {
      context.io.stdout.write(`${JSON.stringify({ mode, walBytesBefore: before, walBytesAfter: after, ...result })}\n`);
    } else {
      const frames = result ? `${result.checkpointedFrames} of ${result.logFrames} WAL frames copied${result.busy ? " (readers held some back)" : ""}` : "no WAL";
      context.io.stdout.write(`${mode.toLowerCase()} checkpoint: ${frames}; WAL ${formatBytes(before)} → ${formatBytes(after)}\n`);
    }
    return EXIT.ok;
  },
};
