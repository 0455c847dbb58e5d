import type { Command, FlagSpec } from "./command.ts";
import { GLOBAL_FLAGS } from "./global-flags.ts";

function flagLines(flags: Record<string, FlagSpec>): string[] {
  const entries = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : "";
    const repeat = spec.multiple ? " (repeatable)" : "";
    return [`  ${short}--${name}${value}`, `${spec.description}${repeat}`] as const;
  });
  const width = Math.max(...entries.map(([left]) => left.length), 0) + 2;
  return entries.map(([left, right]) => left.padEnd(width) + right);
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: tally ${command.name}${command.arguments ? ` ${command.arguments}` : ""} [options]`, "", command.summary, ""];
  if (Object.keys(command.flags).length > 0) lines.push("Options:", ...flagLines(command.flags), "");
  lines.push("Global options:", ...flagLines(GLOBAL_FLAGS), "");
  if (command.details) lines.push(command.details.trim(), "");
  return lines.join("\n");
}

export function mainHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    `tally ${version}: what your agents did, what it cost, where they degraded`,
    "",
    "Usage: tally <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Global options:",
    ...flagLines({ ...GLOBAL_FLAGS, version: { type: "boolean", short: "v", description: "print the version" } }),
    "",
    "Run `tally <command> --help` for a command's options and examples.",
    "",
  ].join("\n");
}
