import type { Command } from "../command.ts";

/** Every `tally` command, in the order `tally --help` lists them. */
export const COMMANDS: Command[] = [];
