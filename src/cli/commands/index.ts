import type { Command } from "../command.ts";
import { degradationsCommand } from "./degradations.ts";
import { reportCommand } from "./report.ts";
import { toolsCommand } from "./tools.ts";

/** Every `tally` command, in the order `tally --help` lists them. */
export const COMMANDS: Command[] = [reportCommand, toolsCommand, degradationsCommand];
