import type { CliIo } from "./io.ts";

/** A flag as node:util parseArgs takes it, plus its help line. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help. */
  description: string;
  /** Shown in --help as the value's name, e.g. `DATE`. */
  valueName?: string;
}

/** Output formats every reporting command supports. */
export type OutputFormat = "table" | "json" | "csv";

/** What every command receives after parsing. */
export interface CommandContext {
  io: CliIo;
  /** The database file or PostgreSQL URL: --db, else TALLY_DB, else ./data/tally.db. */
  dbPath: string;
  format: OutputFormat;
  color: boolean;
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One `tally <name>` command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional arguments as shown in usage, e.g. `[PATH…]`. */
  arguments?: string;
  flags: Record<string, FlagSpec>;
  /** Extra help text: examples and details. */
  details?: string;
  /** Accepts positional arguments. @default false */
  positionals?: boolean;
  run(context: CommandContext): Promise<number> | number;
}
