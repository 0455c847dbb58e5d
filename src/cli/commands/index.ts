import type { Command } from "../command.ts";
import { checkpointCommand } from "./checkpoint.ts";
import { degradationsCommand } from "./degradations.ts";
import { doctorCommand } from "./doctor.ts";
import { importCommand } from "./import.ts";
import { migrateCommand } from "./migrate.ts";
import { purgeCommand } from "./purge.ts";
import { reportCommand } from "./report.ts";
import { serveCommand } from "./serve.ts";
import { toolsCommand } from "./tools.ts";

/** Every `tally` command, in the order `tally --help` lists them. */
export const COMMANDS: Command[] = [reportCommand, toolsCommand, degradationsCommand, serveCommand, importCommand, purgeCommand, checkpointCommand, doctorCommand, migrateCommand];
