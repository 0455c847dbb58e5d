/**
 * The real executable, end to end: `bun src/cli/bin.ts` (what `bun run tally` runs) and the
 * built `dist/cli/bin.js` under Node (better-sqlite3). The build goes to a temp directory with
 * the package's own build config, so the shared dist/ is never removed under other runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { knownDb } from "./known-db.ts";

const ROOT = join(import.meta.dir, "../..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

function run(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.TALLY_DB === undefined) delete env.TALLY_DB;
  const proc = Bun.spawnSync(cmd, { cwd: options.cwd ?? ROOT, env, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** A shell word: single-quoted. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

let db: string;
beforeAll(() => {
  db = knownDb();
});
afterAll(removeTempDirs);

describe("bun src/cli/bin.ts", () => {
  const bin = [process.execPath, join(ROOT, "src/cli/bin.ts")];

  test("--version", () => {
    expect(run([...bin, "--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  test("report --json over a pipe: the known totals", () => {
    const result = run([...bin, "report", "--db", db, "--by", "repo", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const doc = JSON.parse(result.stdout);
    expect(doc.rows.map((r: { group: { repo: string }; runs: number }) => [r.group.repo, r.runs])).toEqual([["acme/api", 5], ["acme/web", 3], ["other/tool", 2]]);
    expect(doc.totals.costUsd).toBe(4.71875);
  });

  test("a pipe gets a plain table: no colour, every column", () => {
    const result = run([...bin, "report", "--db", db, "--by", "repo", "--exact"]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("\u001b");
    expect(result.stdout).toMatch(/^Total +10 +6 +2 +2 +16\.6K +2,960 +3,600 +650 +\$4\.72\* +16\.5s +5\.0s +50\.0s$/m);
  });

  test("the default database is ./data/tally.db, else TALLY_DB", () => {
    const cwd = tempDir();
    const none = run([...bin, "report"], { cwd });
    expect(none.code).toBe(1);
    // Relative paths are resolved against the invocation's directory, and shown resolved.
    expect(none.stderr).toStartWith(`tally report: no database at ${join(cwd, "data/tally.db")}\n`);
    expect(none.stderr).not.toMatch(/^ {4}at /m);
    const env = run([...bin, "report", "--json"], { cwd, env: { TALLY_DB: db } });
    expect(env.code).toBe(0);
    expect(JSON.parse(env.stdout).totals.runs).toBe(10);
    // An empty TALLY_DB is unset (`TALLY_DB= tally report`), not an empty --db.
    const empty = run([...bin, "report"], { cwd, env: { TALLY_DB: "" } });
    expect([empty.code, empty.stderr.split("\n")[0]]).toEqual([1, `tally report: no database at ${join(cwd, "data/tally.db")}`]);
  });

  test("errors: exit codes 2 and 1, one line and a hint, no stack trace", () => {
    const usage = run([...bin, "report", "--since", "someday", "--db", db]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toStartWith("tally report: cannot read 'someday' as a time");
    const failure = run([...bin, "report", "--db", join(tempDir(), "missing.db")]);
    expect(failure.code).toBe(1);
    expect(failure.stderr.trimEnd().split("\n")).toHaveLength(2);
    for (const r of [usage, failure]) expect(r.stderr).not.toMatch(/^ {4}at /m);
  });

  test("a reader that goes away (`tally report | head`) ends the run quietly: exit 0, nothing on stderr", () => {
    // The reader closes its end before tally starts writing, so the write surely meets EPIPE.
    const line = `${bin.map(quote).join(" ")} report --db ${quote(db)} --by day,repo --format csv | (exec 0<&-; sleep 0.2)`;
    expect(run(["bash", "-c", `set -o pipefail; ${line}`])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("bun run tally (the package script)", () => {
    expect(run([process.execPath, "run", "--silent", "tally", "--version"])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });
});

describe("the built bin under Node", () => {
  let built: string;

  beforeAll(() => {
    // The package as built: tsc with tsconfig.build.json, package.json next to dist/ (the
    // version is read from ../../package.json), dependencies resolved from node_modules.
    const dir = tempDir();
    const tsc = run([join(ROOT, "node_modules/.bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(dir, "dist")]);
    if (tsc.code !== 0) throw new Error(`build failed: ${tsc.stdout}${tsc.stderr}`);
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    built = join(dir, "dist/cli/bin.js");
  }, 60_000);

  test("node dist/cli/bin.js --version", () => {
    expect(run(["node", built, "--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  test("node dist/cli/bin.js report reads the file through better-sqlite3, same numbers", () => {
    // A date, not `7d`: this process runs on the real clock, and the known rows are fixed in
    // November 2026 (the in-process tests read relative ranges against a fixed "now").
    const result = run(["node", built, "report", "--db", db, "--by", "model", "--since", "2026-11-16", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.source).toBe("rollups");
    expect(doc.totals).toMatchObject({ runs: 7, inputTokens: 10600, costUsd: 2.96875, unpricedRuns: 2 });
    expect(doc.unpricedModels).toEqual(["local-llama", "mystery-model-1"]);
  });

  test("node: a reader that goes away ends the run quietly", () => {
    const line = `node ${quote(built)} report --db ${quote(db)} --by day,repo --format csv | (exec 0<&-; sleep 0.2)`;
    expect(run(["bash", "-c", `set -o pipefail; ${line}`])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("node: a usage error exits 2 without a stack trace", () => {
    const result = run(["node", built, "report", "--format", "xml", "--db", db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("tally report: --format must be one of table, json, csv, not 'xml'\n");
  });
});
