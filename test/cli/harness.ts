/**
 * Runs `tally` in-process: `runCli` with a capturing io whose clock is fixed, so relative
 * ranges (7d, 12h) are the same on every run, and whose terminal (isTTY, columns) and
 * environment the test chooses.
 */
import { expect } from "bun:test";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";

/** The fixed "now" of every in-process run: Sunday 2026-11-22, 15:30 UTC. */
export const NOW = Date.parse("2026-11-22T15:30:00Z");

export interface IoOptions {
  now?: number;
  /** The zone the io reports as the machine's. @default "UTC" */
  timeZone?: string;
  env?: Record<string, string | undefined>;
  /** stdout is a terminal. @default false */
  isTTY?: boolean;
  columns?: number;
  cwd?: string;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CliIo that keeps what was written. */
export function capturingIo(options: IoOptions = {}): { io: CliIo; stdout(): string; stderr(): string } {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (out += text), isTTY: options.isTTY ?? false, columns: options.columns },
    stderr: { write: (text: string) => (err += text), isTTY: false },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? NOW,
    // The machine's zone, for tests: UTC unless a test says otherwise (TZ in env, or --tz).
    timeZone: () => options.timeZone ?? "UTC",
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** `tally …args` in-process. */
export async function tally(args: string[], options: IoOptions = {}): Promise<CliRun> {
  const { io, stdout, stderr } = capturingIo(options);
  const code = await runCli(args, io, COMMANDS);
  return { code, stdout: stdout(), stderr: stderr() };
}

/** `tally …args --json` that must succeed; returns the parsed document. */
export async function tallyJson<T = any>(args: string[], options: IoOptions = {}): Promise<T> {
  const run = await tally([...args, "--json"], options);
  if (run.code !== 0) throw new Error(`tally ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** Every error a user sees is one message line, at most one hint line, and never a stack trace. */
export function expectCleanError(run: CliRun, code: 1 | 2, message: string | RegExp): void {
  expect(run.code).toBe(code);
  expect(run.stdout).toBe("");
  const lines = run.stderr.split("\n").filter((l) => l.length > 0);
  expect(lines[0]).toMatch(message);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^ {2}hint: /);
  expect(run.stderr).not.toMatch(/^ {4}at /m);
  expect(run.stderr).not.toContain("unexpected error");
}

/**
 * A percentile read from rollup duration buckets is the representative value of the bucket
 * holding the exact nearest-rank value: within ±4.8 %, then rounded to whole milliseconds.
 */
export function expectWithinBucketError(actual: number | null, exact: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - exact)).toBeLessThanOrEqual(exact * 0.048 + 0.5);
}

/** The cells of a plain-text table line (columns are separated by two or more spaces). */
export function cells(line: string): string[] {
  return line.trim().split(/ {2,}/);
}

/** The table line whose first cell is `first`. */
export function tableRow(table: string, first: string): string[] {
  const line = table.split("\n").find((l) => cells(l)[0] === first);
  if (line === undefined) throw new Error(`no table row starting with ${first} in:\n${table}`);
  return cells(line);
}
