/**
 * `tally … --db postgres://…`: the same commands as on a file, the same numbers. Each test
 * runs the CLI in-process on a fresh schema (TALLY_PG_SCHEMA) and compares with a SQLite file
 * that got the same input.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import postgres from "postgres";
import { POSTGRES_SCHEMA_VERSION } from "../../src/store/postgres/index.ts";
import { MIGRATIONS } from "../../src/store/postgres/schema.ts";
import { generateTranscripts } from "../fixtures/claude-code/generate-transcripts.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { closeStores, freshSchema, openTestStore, POSTGRES_URL, SKIP_REASON, testClock } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
afterAll(async () => {
  await closeStores();
  removeTempDirs();
});

async function tally(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env: { HOME: "/nonexistent-home", ...env },
    cwd: process.cwd(),
    now: () => Date.UTC(2026, 10, 22, 12),
    timeZone: () => "UTC",
  };
  const code = await runCli(args, io, COMMANDS);
  return { code, stdout, stderr };
}

suite("tally --db postgres://", () => {
  test("report, tools and degradations answer as they do on a SQLite file with the same records", async () => {
    const d = Date.UTC(2026, 10, 20);
    const batch = [
      execution({ createdAt: d + 3_600_000, repo: "acme/api", model: "m-a", inputTokens: 10, costUsd: 1, durationMs: 1200, deliveryId: "d1", eventType: "pr" }),
      execution({ createdAt: d + 30 * 3_600_000, repo: "acme/web", model: "m-b", conclusion: "failure", inputTokens: 20, costUsd: 0.5, durationMs: 800 }),
      toolCall({ createdAt: d + 3_600_000, toolName: "search", durationMs: 40 }),
      toolCall({ createdAt: d + 7_200_000, toolName: "search", outcome: "tool_error", durationMs: 90 }),
      rateLimitEvent({ createdAt: d + 3_600_000, deliveryId: "d1", eventType: "pr", retryAttempts: 2 }),
      cacheEvent({ createdAt: d + 3_600_000, outcome: "hit" }),
    ];
    const pg = openTestStore({ now: testClock });
    expect((await pg.write(batch)).ok).toBe(true);
    const file = join(tempDir(), "same.db");
    const sqlite = openSqliteStore({ path: file, retentionDays: 0 });
    expect(sqlite.write(batch).ok).toBe(true);
    sqlite.close();
    const env = { TALLY_PG_SCHEMA: pg.schema };
    const range = ["--since", "2026-11-19", "--until", "2026-11-23"];
    for (const args of [["report", "--by", "day,repo"], ["report", "--by", "model", "--exact"], ["tools", "--by", "tool"], ["degradations"]]) {
      const fromPg = await tally([...args, ...range, "--json", "--db", POSTGRES_URL], env);
      const fromFile = await tally([...args, ...range, "--json", "--db", file]);
      expect(fromPg.stderr).toBe("");
      expect([fromPg.code, fromFile.code]).toEqual([0, 0]);
      expect(JSON.parse(fromPg.stdout)).toEqual(JSON.parse(fromFile.stdout));
    }
    const table = await tally(["report", "--by", "repo", ...range, "--db", POSTGRES_URL], env);
    expect(table.stdout).toContain("acme/web");
  });

  test("import claude-code into PostgreSQL: the transcripts' own totals, resumable, equal to the file import", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 31, projects: 2, sessionsPerProject: 2 });
    const env = { TALLY_PG_SCHEMA: freshSchema() };
    const first = await tally(["import", "claude-code", corpus.projectsDir, "--json", "--db", POSTGRES_URL], env);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { imported: number; database: string };
    expect(summary.imported).toBe(corpus.expected.responses);
    expect(summary.database).toBe(POSTGRES_URL.replace(/\/\/([^:@]+):[^@]*@/, "//$1:***@"));
    const again = JSON.parse((await tally(["import", "claude-code", corpus.projectsDir, "--json", "--db", POSTGRES_URL], env)).stdout) as { imported: number; files: { unchanged: number } };
    expect([again.imported, again.files.unchanged]).toEqual([0, corpus.files.length]);
    const file = join(tempDir(), "import.db");
    expect((await tally(["import", "claude-code", corpus.projectsDir, "--json", "--db", file])).code).toBe(0);
    const byDay = ["report", "--by", "day,model", "--json"];
    const fromPg = JSON.parse((await tally([...byDay, "--db", POSTGRES_URL], env)).stdout);
    const fromFile = JSON.parse((await tally([...byDay, "--db", file])).stdout);
    expect(toSignificantDigits(fromPg, 12)).toEqual(toSignificantDigits(fromFile, 12));
    expect(fromPg.rows.length).toBeGreaterThan(1);
  });

  test("migrate, doctor and purge work; checkpoint says it is SQLite's; a bad URL or server is a clear error", async () => {
    const env = { TALLY_PG_SCHEMA: freshSchema() };
    const migrated = await tally(["migrate", "--json", "--db", POSTGRES_URL], env);
    expect(JSON.parse(migrated.stdout)).toEqual({ from: 0, to: POSTGRES_SCHEMA_VERSION });
    const doctor = await tally(["doctor", "--json", "--db", POSTGRES_URL], env);
    expect(doctor.code).toBe(0);
    expect(JSON.parse(doctor.stdout).healthy).toBe(true);
    const purge = await tally(["purge", "--older-than", "30d", "--json", "--db", POSTGRES_URL], env);
    expect([purge.code, JSON.parse(purge.stdout).rows]).toEqual([0, 0]);
    const checkpoint = await tally(["checkpoint", "--db", POSTGRES_URL], env);
    expect([checkpoint.code, checkpoint.stderr]).toEqual([1, expect.stringContaining("works on SQLite files only")]);
    const nowhere = await tally(["report", "--db", "postgres://tally:s3cret@127.0.0.1:1/x"]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain("is PostgreSQL running at postgres://tally:***@127.0.0.1:1/x");
    expect(nowhere.stderr).not.toContain("s3cret");
    const missing = await tally(["report", "--db", POSTGRES_URL], { TALLY_PG_SCHEMA: freshSchema() });
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining("no Tally schema")]);
    const badSchema = await tally(["report", "--db", POSTGRES_URL], { TALLY_PG_SCHEMA: "Robert'); DROP" });
    expect([badSchema.code, badSchema.stderr]).toEqual([1, expect.stringContaining("schema must be lower-case letters")]);
    const badCopy = await tally(["report", "--db", POSTGRES_URL], { ...env, TALLY_PG_COPY: "banana" });
    expect([badCopy.code, badCopy.stderr]).toEqual([1, expect.stringContaining("TALLY_PG_COPY must be 1/true/on or 0/false/off, not 'banana'")]);
    const noCopy = await tally(["report", "--json", "--db", POSTGRES_URL], { ...env, TALLY_PG_COPY: "off" });
    expect(noCopy.code).toBe(0);
  });

  test("a schema older than this tally: readers refuse with the migrate command; after `tally migrate` they answer", async () => {
    const schema = freshSchema();
    const db = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
    try {
      await db.begin(async (tx) => {
        await tx.unsafe(`CREATE SCHEMA "${schema}"`);
        await tx.unsafe(`SET LOCAL search_path TO "${schema}"`);
        await tx.unsafe(MIGRATIONS.find((m) => m.version === 1)!.sql);
        await tx.unsafe("INSERT INTO tally_meta (key, value) VALUES ('schema_version', '1')");
      });
    } finally {
      await db.end();
    }
    const env = { TALLY_PG_SCHEMA: schema };
    const refused = await tally(["degradations", "--db", POSTGRES_URL], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`has schema version 1; this tally reads version ${POSTGRES_SCHEMA_VERSION}`);
    expect(refused.stderr).toContain("tally migrate --db");
    const migrated = await tally(["migrate", "--json", "--db", POSTGRES_URL], env);
    expect(JSON.parse(migrated.stdout)).toEqual({ from: 1, to: POSTGRES_SCHEMA_VERSION });
    const answered = await tally(["degradations", "--json", "--db", POSTGRES_URL], env);
    expect([answered.code, JSON.parse(answered.stdout).totalRuns]).toEqual([0, 0]);
  });
});

/**
 * `value` with every fractional number cut to `digits` significant digits. The two stores add
 * a batch's costs in different orders (PostgreSQL per finest rollup group, SQLite run by run),
 * and floating-point sums in different orders may differ in their last bit: 7.934099249999997
 * against 7.93409925. Token counts and runs are integers and stay exact.
 */
function toSignificantDigits(value: unknown, digits: number): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(digits));
  if (Array.isArray(value)) return value.map((item) => toSignificantDigits(item, digits));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toSignificantDigits(item, digits)]));
  return value;
}

