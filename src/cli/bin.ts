#!/usr/bin/env node
/**
 * The `tally` executable. From a checkout: `bun run tally …`; installed: `npx tally …`.
 * Installs the signal handling the library itself never does: Ctrl-C ends with code 130.
 */
import { COMMANDS } from "./commands/index.ts";
import { processIo } from "./io.ts";
import { runCli } from "./main.ts";

process.on("SIGINT", () => process.exit(130));
// A closed pipe (`tally report | head`) is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
});

process.exitCode = await runCli(process.argv.slice(2), processIo(), COMMANDS);
