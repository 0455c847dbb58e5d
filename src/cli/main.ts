import { isPostgresUrl } from "../store/postgres/url.ts";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command, CommandContext, OutputFormat } from "./command.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { DEFAULT_DB_PATH, GLOBAL_FLAGS } from "./global-flags.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { useColor, type CliIo } from "./io.ts";

/** The package version, read from package.json two folders up (src/cli or dist/cli). */
export function packageVersion(): string {
  return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
}

const FORMATS: readonly OutputFormat[] = ["table", "json", "csv"];

function parse(command: Command, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries({ ...GLOBAL_FLAGS, ...command.flags }).map(([name, spec]) => [
      name,
      { type: spec.type, multiple: spec.multiple ?? false, ...(spec.short ? { short: spec.short } : {}) },
    ]),
  );
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: command.positionals === true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/, "") : String(error);
    throw new UsageError(message, `see \`tally ${command.name} --help\``);
  }
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The command a typo most likely meant: within two edits, or a prefix of at least three letters. */
function closestCommand(typed: string, commands: readonly Command[]): Command | undefined {
  if (typed.length === 0) return undefined;
  const ranked = commands
    .map((c) => ({ c, d: typed.length >= 3 && c.name.startsWith(typed) ? 0 : editDistance(typed, c.name) }))
    .sort((x, y) => x.d - y.d);
  return ranked[0] && ranked[0].d <= 2 ? ranked[0].c : undefined;
}

function describeError(io: CliIo, prefix: string, error: UsageError | CliError): void {
  io.stderr.write(`${prefix}: ${error.message}\n`);
  if (error.hint) io.stderr.write(`  hint: ${error.hint}\n`);
}

/**
 * Runs one `tally` invocation and returns its exit code: 0 success, 1 failure, 2 usage error.
 * Errors are one line on stderr with a hint; a stack trace only with TALLY_DEBUG=1.
 */
export async function runCli(argv: string[], io: CliIo, commands: readonly Command[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? commandHelp(topic) : mainHelp(commands, packageVersion()));
    return EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const close = closestCommand(name, commands);
    describeError(io, "tally", new UsageError(`unknown command '${name}'`, close ? `did you mean \`tally ${close.name}\`?` : "run `tally --help` for the list"));
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    if (values.json && values.format !== undefined && values.format !== "json") {
      throw new UsageError(`--json and --format ${String(values.format)} disagree`, "pass one of them");
    }
    const format = (values.json ? "json" : (values.format as string | undefined) ?? "table") as OutputFormat;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, not '${format}'`);
    // An empty TALLY_DB is unset, as shells leave it after `TALLY_DB= tally …`.
    // Relative to the invocation's own directory, which an embedding caller may set in io.cwd.
    const given = (values.db as string | undefined) ?? (io.env.TALLY_DB || DEFAULT_DB_PATH);
    if (given.length === 0) throw new UsageError("--db needs a path");
    // A PostgreSQL URL is used as given; a file path is relative to the invocation's directory.
    const dbPath = isPostgresUrl(given) ? given : resolve(io.cwd, given);
    const context: CommandContext = {
      io,
      dbPath,
      format,
      color: format === "table" && !values["no-color"] && useColor(io),
      values: values as CommandContext["values"],
      positionals,
    };
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      describeError(io, `tally ${command.name}`, error);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      describeError(io, `tally ${command.name}`, error);
      return EXIT.failure;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`tally ${command.name}: unexpected error: ${message}\n`);
    if (io.env.TALLY_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    else io.stderr.write("  hint: run again with TALLY_DEBUG=1 for details, and report it if it persists\n");
    return EXIT.failure;
  }
}
