import type { FlagSpec } from "./command.ts";

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  db: { type: "string", valueName: "PATH|URL", description: "database file, or postgres://user@host/db (default: $TALLY_DB, else ./data/tally.db; schema: $TALLY_PG_SCHEMA, else tally; $TALLY_PG_COPY=0|1 turns COPY off|on, default on except behind a connection pooler)" },
  format: { type: "string", valueName: "FORMAT", description: "output: table (default), json or csv" },
  json: { type: "boolean", description: "same as --format json" },
  "no-color": { type: "boolean", description: "no colours (also: NO_COLOR=1)" },
  help: { type: "boolean", short: "h", description: "show help for this command" },
};

export const DEFAULT_DB_PATH = "./data/tally.db";
