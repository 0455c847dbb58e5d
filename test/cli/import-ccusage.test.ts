/**
 * Tally's per-day totals against ccusage 20's (`ccusage daily --json --offline`, the native
 * binary of the `@ccusage/ccusage-linux-x64` devDependency, which like Tally keeps each
 * streamed response's final snapshot)
 * on the same generated folders: input, output, cache read and cache creation tokens equal,
 * day by day, and cost within 1 % (the two price tables are different projects). ccusage
 * groups by the local date of each timestamp and Tally by UTC day, so ccusage runs with TZ=UTC.
 *
 * The corpora have everything but responses without a `requestId`: ccusage 20 counts the
 * streamed lines of such a response differently from Tally, which takes `message.id` alone as
 * the response's identity (see `executionIdFor`; the unit tests cover those). ccusage 18 is
 * not compared: it keeps each response's first, partial snapshot.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, cpSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { generateTranscripts, ExpectedTotals, Randomness, SessionLines } from "../fixtures/claude-code/generate-transcripts.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

/**
 * ccusage 20 is a native binary: its platform package is the devDependency (the registry this
 * project installs from has no other platform's build, so the `ccusage` launcher package, which
 * lists them all, cannot be locked). Skipped where it is not installed (not Linux x64).
 */
const CCUSAGE = join(import.meta.dir, "../../node_modules/@ccusage/ccusage-linux-x64/bin/ccusage");
const installed = existsSync(CCUSAGE);
// npm unpacks it without its execute bit; ccusage's own launcher sets it on first use.
if (installed) chmodSync(CCUSAGE, 0o755);

type Tokens = { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number };
type Day = Tokens & { costUsd: number };

/** `ccusage daily --json --offline` (v20) over the config dirs, per day. */
function ccusageDaily(configDirs: string[]): Record<string, Day> {
  const run = spawnSync(CCUSAGE, ["daily", "--json", "--offline"], {
    env: { PATH: process.env.PATH, HOME: tempDir(), TZ: "UTC", CLAUDE_CONFIG_DIR: configDirs.join(","), NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`ccusage failed (${run.status}): ${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as { daily: ({ period: string; totalCost: number } & Tokens)[] };
  return Object.fromEntries(
    parsed.daily.map((d) => [
      d.period,
      { inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheReadTokens: d.cacheReadTokens, cacheCreationTokens: d.cacheCreationTokens, costUsd: d.totalCost },
    ]),
  );
}

/** `tally import claude-code` with CLAUDE_CONFIG_DIR set (the default locations), then the per-day report. */
async function tallyDaily(configDirs: string[], db: string, summary?: (json: { imported: number; updated: number }) => void): Promise<Record<string, Day>> {
  let err = "";
  let out = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env: { HOME: tempDir(), CLAUDE_CONFIG_DIR: configDirs.join(",") },
    cwd: process.cwd(),
    now: () => Date.now(),
    timeZone: () => "UTC",
  };
  const code = await runCli(["import", "claude-code", "--db", db, "--json"], io, COMMANDS);
  if (code !== 0) throw new Error(`tally import exited ${code}: ${err}`);
  summary?.(JSON.parse(out));
  const store = openSqliteStore({ path: db, readonly: true, retentionDays: 0 });
  try {
    const report = store.report({ kind: "usage", groupBy: ["day"], range: {} });
    return Object.fromEntries(
      report.rows.map((r) => [
        r.group.day!,
        { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheCreationTokens: r.cacheCreationTokens, costUsd: r.costUsd },
      ]),
    );
  } finally {
    store.close();
  }
}

function tokensOf(days: Record<string, Day>): Record<string, Tokens> {
  return Object.fromEntries(Object.entries(days).map(([day, { costUsd: _, ...tokens }]) => [day, tokens]));
}

/** Same days, same four token counts, and each day's cost within 1 % of ccusage's. */
function expectSameAsCcusage(tally: Record<string, Day>, ccusage: Record<string, Day>): void {
  expect(tokensOf(tally)).toEqual(tokensOf(ccusage));
  for (const [day, { costUsd }] of Object.entries(ccusage)) {
    expect(costUsd).toBeGreaterThan(0);
    expect(Math.abs(tally[day]!.costUsd - costUsd) / costUsd).toBeLessThanOrEqual(0.01);
  }
}

describe.skipIf(!installed)("per-day totals equal ccusage 20's", () => {
  test("on a generated folder of streamed responses with side chains, subagents, <synthetic> lines, costUSD, a resumed copy and damage", async () => {
    const configDir = tempDir();
    const corpus = generateTranscripts({
      configDir, seed: 101, projects: 4, sessionsPerProject: 4, turnsPerSession: 30, spanMs: 6 * 86_400_000, damage: true, withoutRequestId: false,
    });
    // Most responses are streamed: more lines than responses, and partial snapshots among them.
    expect(corpus.expected.responseLines).toBeGreaterThan(1.5 * corpus.expected.responses);
    const ccusage = ccusageDaily([configDir]);
    expect(Object.keys(ccusage).length).toBeGreaterThanOrEqual(5);
    const tally = await tallyDaily([configDir], join(tempDir(), "t.db"));
    expectSameAsCcusage(tally, ccusage);
    // And Tally agrees with what the generator wrote (final snapshots, on their first line's day).
    const expected = Object.fromEntries([...corpus.expected.days].map(([day, { responses: _, ...tokens }]) => [day, tokens]));
    expect(tokensOf(tally)).toEqual(expected);
  }, 60_000);

  test("a response cut mid-stream by one import and finished before the next; an overlapping copy changes nothing", async () => {
    const configDir = tempDir();
    generateTranscripts({ configDir, seed: 102, projects: 2, sessionsPerProject: 3, withoutRequestId: false });
    const db = join(tempDir(), "t.db");
    await tallyDaily([configDir], db);

    // A session goes on after the first import, and the import runs while a response streams:
    // the file ends after a partial snapshot, the next import finds the rest.
    const folder = join(configDir, "projects", readdirSync(join(configDir, "projects"))[0]!);
    const file = join(folder, readdirSync(folder).find((name) => name.endsWith(".jsonl"))!);
    const session = new SessionLines({
      random: new Randomness(103), expected: new ExpectedTotals(), sessionId: "later", cwd: "/home/dev/src/tally-app", version: "2.0.31",
      model: "claude-sonnet-4-5-20250929", startMs: Date.UTC(2026, 0, 9, 23, 30), toolOutputBytes: 1000, variety: true, withoutRequestId: false,
    });
    let more = "";
    for (let i = 0; i < 8; i++) more += session.turn();
    const lines = more.split("\n");
    const partial = lines.findIndex((line) => line.includes('"stop_reason":null'));
    expect(partial).toBeGreaterThan(0);
    appendFileSync(file, `${lines.slice(0, partial + 1).join("\n")}\n`);
    const midStream = await tallyDaily([configDir], db);
    appendFileSync(file, lines.slice(partial + 1).join("\n"));

    let updated = -1;
    const tally = await tallyDaily([configDir], db, (s) => (updated = s.updated));
    expectSameAsCcusage(tally, ccusageDaily([configDir]));
    // The partial snapshot counted by the first import was replaced by the final one, not added to.
    expect(updated).toBe(1);
    const output = (days: Record<string, Day>) => Object.values(days).reduce((n, d) => n + d.outputTokens, 0);
    expect(output(tally)).toBeGreaterThan(output(midStream));

    const copy = tempDir();
    cpSync(join(configDir, "projects"), join(copy, "projects"), { recursive: true });
    expect(await tallyDaily([configDir, copy], db)).toEqual(tally);
  }, 60_000);
});
