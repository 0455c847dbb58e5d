import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import type { ImportSummary } from "../../src/cli/commands/import.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { generateTranscripts, type DayTotals, ExpectedTotals, Randomness, SessionLines } from "../fixtures/claude-code/generate-transcripts.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tally …args` in-process, with an io that keeps what was written. */
async function tally(args: string[], options: { env?: Record<string, string>; stderrIsTTY?: boolean; cwd?: string } = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  let clock = Date.UTC(2026, 10, 22, 12);
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.stderrIsTTY ?? false },
    env: options.env ?? { HOME: "/nonexistent-home" },
    cwd: options.cwd ?? process.cwd(),
    // Every reading of the clock moves it on by 150 ms, so the progress bar redraws.
    now: () => (clock += 150),
    timeZone: () => "UTC",
  };
  const code = await runCli(args, io, COMMANDS);
  return { code, stdout, stderr };
}

async function importJson(args: string[], options: Parameters<typeof tally>[1] = {}): Promise<ImportSummary> {
  const run = await tally(["import", "claude-code", ...args, "--json"], options);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as ImportSummary;
}

function reportedDays(db: string): [string, DayTotals][] {
  const store = openSqliteStore({ path: db, readonly: true, retentionDays: 0 });
  try {
    const report = store.report({ kind: "usage", groupBy: ["day"], range: {} });
    return report.rows
      .map((r): [string, DayTotals] => [r.group.day!, { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheCreationTokens: r.cacheCreationTokens, responses: r.runs }])
      .sort(([a], [b]) => a.localeCompare(b));
  } finally {
    store.close();
  }
}

function expectedDays(days: Map<string, DayTotals>): [string, DayTotals][] {
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b));
}

describe("tally import claude-code PATH", () => {
  test("imports a generated folder exactly, says what it did, and a second run reads nothing", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), damage: true, seed: 21 });
    const db = join(tempDir(), "tally.db");
    const first = await importJson([corpus.projectsDir, "--db", db]);
    expect(first).toMatchObject({
      source: "claude-code",
      database: db,
      paths: [corpus.projectsDir],
      files: { found: corpus.files.length, read: corpus.files.length, unchanged: 0, reread: 0, failed: 0 },
      bytesRead: corpus.bytes,
      linesRead: corpus.expected.lines,
      apiResponses: corpus.expected.responseLines,
      imported: corpus.expected.responses,
      duplicates: corpus.expected.responseLines - corpus.expected.responses,
      ignored: { synthetic: corpus.expected.synthetic, apiError: 0, invalid: 0 },
      malformed: { lines: corpus.expected.malformed, first: { path: join(corpus.projectsDir, "-home-dev-src-tally-app", "damaged-session.jsonl") } },
      errors: [],
    });
    expect(first.elapsedMs).toBeGreaterThan(0);
    expect(reportedDays(db)).toEqual(expectedDays(corpus.expected.days));

    const second = await importJson([corpus.projectsDir, "--db", db]);
    expect(second).toMatchObject({ bytesRead: 0, linesRead: 0, imported: 0, files: { unchanged: corpus.files.length, read: 0 } });
    expect(reportedDays(db)).toEqual(expectedDays(corpus.expected.days));
  });

  test("the summary line says files, new lines, executions, duplicates, the first malformed line and the time", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), damage: true, seed: 22, projects: 1, sessionsPerProject: 1 });
    const db = join(tempDir(), "tally.db");
    const run = await tally(["import", "claude-code", corpus.projectsDir, "--db", db]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(""); // no progress bar when stderr is not a terminal
    const damaged = join(corpus.projectsDir, "-home-dev-src-tally-app", "damaged-session.jsonl");
    expect(run.stdout).toMatch(new RegExp(`^imported ${corpus.expected.responses} executions from ${corpus.files.length} files \\(${corpus.files.length} read, 0 unchanged\\); `));
    expect(run.stdout).toContain(`${corpus.expected.lines} new lines (`);
    expect(run.stdout).toContain(`${corpus.expected.responseLines - corpus.expected.responses} duplicates skipped`);
    expect(run.stdout).toContain(`3 malformed lines skipped (first: ${damaged}:`);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
  });

  test("two overlapping copies of a folder, given together or one after the other, count once", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 23 });
    const laptop = join(tempDir(), "laptop-backup", "projects");
    cpSync(corpus.projectsDir, laptop, { recursive: true });
    const together = join(tempDir(), "a.db");
    expect((await importJson([corpus.projectsDir, laptop, "--db", together])).imported).toBe(corpus.expected.responses);
    expect(reportedDays(together)).toEqual(expectedDays(corpus.expected.days));

    const apart = join(tempDir(), "b.db");
    await importJson([corpus.projectsDir, "--db", apart]);
    const later = await importJson([laptop, "--db", apart]);
    expect(later.imported).toBe(0);
    expect(later.duplicates).toBe(corpus.expected.responseLines);
    expect(reportedDays(apart)).toEqual(expectedDays(corpus.expected.days));
  });

  test("a file that grows between two imports: the second reads only what was appended", async () => {
    const dir = join(tempDir(), "projects", "-home-dev-src-app");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "8c1f.jsonl");
    const expected = new ExpectedTotals();
    const session = new SessionLines({
      random: new Randomness(5), expected, sessionId: "8c1f", cwd: "/home/dev/src/app", version: "2.0.31",
      model: "claude-opus-4-1-20250805", startMs: Date.UTC(2026, 2, 1, 22), toolOutputBytes: 2000, variety: true,
    });
    let before = "";
    for (let i = 0; i < 10; i++) before += session.turn();
    writeFileSync(path, before);
    const db = join(tempDir(), "tally.db");
    const first = await importJson([path, "--db", db]);
    expect(first.bytesRead).toBe(Buffer.byteLength(before));
    const linesBefore = expected.lines;
    expect(first.linesRead).toBe(linesBefore);

    let appended = "";
    for (let i = 0; i < 3; i++) appended += session.turn();
    appendFileSync(path, appended);
    const second = await importJson([path, "--db", db]);
    expect(second.bytesRead).toBe(Buffer.byteLength(appended));
    expect(second.linesRead).toBe(expected.lines - linesBefore);
    expect(first.imported + second.imported).toBe(expected.responses);
    expect(reportedDays(db)).toEqual(expectedDays(expected.days));
  });

  test("a single file is read as given, whatever its name", async () => {
    const dir = tempDir();
    const expected = new ExpectedTotals();
    const session = new SessionLines({
      random: new Randomness(6), expected, sessionId: "s", cwd: "/w", version: "2.0.14",
      model: "claude-sonnet-4-5-20250929", startMs: Date.UTC(2026, 2, 1), toolOutputBytes: 300, variety: false,
    });
    writeFileSync(join(dir, "export.txt"), session.turn() + session.turn());
    const db = join(tempDir(), "tally.db");
    expect((await importJson(["export.txt", "--db", db], { cwd: dir })).imported).toBe(expected.responses);
  });

  test("an empty folder imports nothing and succeeds", async () => {
    const summary = await importJson([tempDir(), "--db", join(tempDir(), "t.db")]);
    expect(summary).toMatchObject({ files: { found: 0 }, imported: 0 });
  });
});

describe("tally import claude-code (default locations)", () => {
  test("reads $CLAUDE_CONFIG_DIR/projects, a comma-separated list, and only those", async () => {
    const a = generateTranscripts({ configDir: tempDir(), seed: 31, projects: 1, sessionsPerProject: 2 });
    const b = generateTranscripts({ configDir: tempDir(), seed: 32, projects: 1, sessionsPerProject: 2 });
    const home = tempDir();
    generateTranscripts({ configDir: join(home, ".claude"), seed: 33, projects: 1, sessionsPerProject: 1 });
    const configDirs = `${join(a.projectsDir, "..")},${join(b.projectsDir, "..")}`;
    const summary = await importJson(["--db", join(tempDir(), "t.db")], { env: { HOME: home, CLAUDE_CONFIG_DIR: configDirs } });
    expect(summary.paths).toEqual([a.projectsDir, b.projectsDir]);
    expect(summary.imported).toBe(a.expected.responses + b.expected.responses);
  });

  test("without CLAUDE_CONFIG_DIR: ~/.config/claude/projects and ~/.claude/projects, those that exist", async () => {
    const home = tempDir();
    const dotClaude = generateTranscripts({ configDir: join(home, ".claude"), seed: 34, projects: 1, sessionsPerProject: 1 });
    const summary = await importJson(["--db", join(tempDir(), "t.db")], { env: { HOME: home } });
    expect(summary.paths).toEqual([join(home, ".claude", "projects")]);
    expect(summary.imported).toBe(dotClaude.expected.responses);
  });

  test("nothing in any default location: exit 1 saying where it looked", async () => {
    const home = tempDir();
    const run = await tally(["import", "claude-code", "--db", join(tempDir(), "t.db")], { env: { HOME: home } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no Claude Code transcripts found (looked in ${join(home, ".config", "claude", "projects")}, ${join(home, ".claude", "projects")})`);
    expect(run.stderr).toMatch(/\n {2}hint: /);
  });
});

describe("progress", () => {
  test("a progress bar on stderr when it is a terminal (bytes done / total, rate), cleared at the end; stdout keeps the summary", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 41 });
    const run = await tally(["import", "claude-code", corpus.projectsDir, "--db", join(tempDir(), "t.db")], { stderrIsTTY: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\r\[#+\.*\] +\d+% [\d.]+ (KiB|MiB) \/ [\d.]+ (KiB|MiB) {2}[\d.]+ (B|KiB|MiB|GiB)\/s {2}\d+\/\d+ files/);
    expect(run.stderr).toContain("100%");
    expect(run.stderr.endsWith("\r\x1b[K")).toBe(true);
    expect(run.stdout).toStartWith("imported ");
  });
});

describe("bad invocations", () => {
  test("an unknown source: exit 2 with the list of sources", async () => {
    const run = await tally(["import", "foo"]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe("tally import: unknown source 'foo'\n  hint: sources: claude-code; e.g. tally import claude-code [PATH…]\n");
  });

  test("no source: exit 2; an unknown flag: exit 2", async () => {
    expect((await tally(["import"])).code).toBe(2);
    const run = await tally(["import", "claude-code", "--bogus"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--bogus");
  });

  test("a missing path: exit 1 with a clear message, and no database created", async () => {
    const db = join(tempDir(), "t.db");
    const run = await tally(["import", "claude-code", "/no/such/dir", "--db", db]);
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")[0]).toBe("tally import: no such file or directory: /no/such/dir");
    expect(await Bun.file(db).exists()).toBe(false);
  });

  test("a path that is neither a file nor a directory: exit 1", async () => {
    const run = await tally(["import", "claude-code", "/dev/null", "--db", join(tempDir(), "t.db")]);
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")[0]).toBe("tally import: /dev/null is neither a file nor a directory");
  });

  test("--db pointing at a directory: exit 1, no stack trace", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 51, projects: 1, sessionsPerProject: 1 });
    const run = await tally(["import", "claude-code", corpus.projectsDir, "--db", tempDir()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is a directory");
    expect(run.stderr).not.toMatch(/^ {4}at /m);
  });

  test("an unreadable file or a dangling link is reported and skipped, not fatal", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 52, projects: 1, sessionsPerProject: 2, variety: false });
    const folder = join(corpus.projectsDir, "-home-dev-src-tally-app");
    const dangling = join(folder, "moved-away.jsonl");
    symlinkSync("/no/such/target.jsonl", dangling);
    const locked = join(folder, "locked.jsonl");
    writeFileSync(locked, '{"type":"summary","summary":"x","leafUuid":"y"}\n');
    chmodSync(locked, 0o000);
    const canLock = process.getuid?.() !== 0; // root reads mode-000 files anyway
    const run = await tally(["import", "claude-code", corpus.projectsDir, "--db", join(tempDir(), "t.db"), "--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`tally import: skipped ${dangling}: no such file or directory\n`);
    if (canLock) expect(run.stderr).toContain(`tally import: skipped ${locked}: permission denied\n`);
    const summary = JSON.parse(run.stdout) as ImportSummary;
    expect(summary.imported).toBe(corpus.expected.responses);
    expect(summary.errors).toContainEqual({ path: dangling, message: "no such file or directory" });
  });
});

describe("tally import --help", () => {
  test("explains the command with examples and the JSON shape", async () => {
    const run = await tally(["import", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: tally import claude-code [PATH…] [options]");
    expect(run.stdout).toContain("tally import claude-code ~/.claude/projects");
    expect(run.stdout).toContain("--json prints one object:");
    expect(run.stdout).toContain("malformed: { lines, first: { path, line } | null }");
  });

  test("is listed by tally --help", async () => {
    const run = await tally(["--help"]);
    expect(run.stdout).toMatch(/\n {2}import +import Claude Code/);
  });
});
