#!/usr/bin/env node
/**
 * The `tally` executable. From a checkout: `bun run tally …`; installed: `npx tally …`.
 * Installs the signal handling the library itself never does: Ctrl-C ends with code 130, except
 * in a command with a graceful stop of its own (`tally serve`).
 * (A closed output pipe, as in `tally report | head`, is handled where output is written: io.ts.)
 */
import { COMMANDS } from "./commands/index.ts";
import { processIo } from "./io.ts";
import { runCli } from "./main.ts";

process.on("SIGINT", () => {
  // A command that stops gracefully (`tally serve`) installs its own handler: let it finish.
  if (process.listenerCount("SIGINT") > 1) return;
  process.exit(130);
});

process.exitCode = await runCli(process.argv.slice(2), processIo(), COMMANDS);
