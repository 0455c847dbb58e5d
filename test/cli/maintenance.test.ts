/**
 * Maintenance commands on real files: purge (and --dry-run), checkpoint (and --truncate),
 * doctor on healthy, unpriced, corrupt, too-new and too-old files, and migrate on the legacy
 * review-bot fixture.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredRecord } from "../../src/core/rows.ts";
import { openSqliteStore, SCHEMA_VERSION } from "../../src/store/sqlite/index.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { expectCleanError, tally, tallyJson } from "./harness.ts";
import { fingerprint, knownDb, usageRecords, writeDb } from "./known-db.ts";

afterAll(removeTempDirs);

const DAY = 86_400_000;
const LEGACY_FIXTURE = join(import.meta.dir, "../contract/fixtures/legacy-v0.db");

/** Random-looking bytes from a fixed seed: never a SQLite header. */
function junk(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = 0x2545f491;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("purge", () => {
  // A clock far from the real one: ages must be measured from the CLI's clock.
  const now = Date.parse("2030-01-15T12:00:00Z");
  const ago = (days: number, hours = 0) => now - days * DAY - hours * 3_600_000;
  const session = (createdAt: number): StoredRecord => ({ kind: "sessionStart", row: { id: `session-${createdAt}`, createdAt, source: null, clientName: null, clientVersion: null } });

  /**
   * Nine raw rows older than 90 days (four runs, two tool calls, one rate-limit row, one cache
   * lookup, one session) and six newer ones. One old run is 500 days old: past the 400-day
   * retention of rollups.
   */
  function purgeDb(): string {
    return writeDb([
      execution({ createdAt: ago(500), repo: "old/ancient" }),
      execution({ createdAt: ago(100), repo: "old/a" }),
      execution({ createdAt: ago(95), repo: "old/a" }),
      execution({ createdAt: ago(90, 1), repo: "old/b" }),
      execution({ createdAt: ago(89), repo: "new/a" }),
      execution({ createdAt: ago(0, 1), repo: "new/b" }),
      toolCall({ createdAt: ago(120) }),
      toolCall({ createdAt: ago(91) }),
      toolCall({ createdAt: ago(1) }),
      rateLimitEvent({ createdAt: ago(200) }),
      rateLimitEvent({ createdAt: ago(2) }),
      cacheEvent({ createdAt: ago(100) }),
      cacheEvent({ createdAt: ago(3) }),
      session(ago(150)),
      session(ago(4)),
    ]);
  }

  test("--dry-run counts what would go and deletes nothing", async () => {
    const db = purgeDb();
    const before = fingerprint(db);
    const run = await tally(["purge", "--db", db, "--older-than", "90d", "--dry-run"], { now });
    expect(run).toEqual({ code: 0, stdout: "would remove 9 raw rows older than 2029-10-17T12:00:00.000Z (90d); daily rollups kept\n", stderr: "" });
    const json = await tallyJson(["purge", "--db", db, "--older-than", "90d", "--dry-run"], { now });
    expect(json).toEqual({ dryRun: true, olderThan: "90d", cutoff: "2029-10-17T12:00:00.000Z", rows: 9 });
    expect(fingerprint(db)).toEqual(before);
  });

  test("--older-than 90d removes the old raw rows, keeps newer rows and rollups within 400 days", async () => {
    const db = purgeDb();
    const runsFromRollups = async () => (await tallyJson(["report", "--db", db], { now })).totals.runs;
    expect(await runsFromRollups()).toBe(6);
    const run = await tally(["purge", "--db", db, "--older-than", "90d"], { now });
    expect(run).toEqual({ code: 0, stdout: "removed 9 raw rows older than 2029-10-17T12:00:00.000Z (90d); daily rollups kept\n", stderr: "" });
    const after = fingerprint(db).tables;
    expect([after.executions, after.tool_calls, after.rate_limit_events, after.cache_events, after.sessions]).toEqual([2, 1, 1, 1, 1]);
    // Raw rows: only the two recent runs. Rollups: those two and the three 90-100 days old;
    // the 500-day-old day is past the rollups' own 400-day retention.
    expect((await tallyJson(["report", "--db", db, "--exact"], { now })).totals.runs).toBe(2);
    expect(await runsFromRollups()).toBe(5);
    const byRepo = await tallyJson(["report", "--db", db, "--by", "repo"], { now });
    expect(byRepo.rows.map((r: { group: { repo: string }; runs: number }) => [r.group.repo, r.runs])).toEqual([
      ["new/a", 1], ["new/b", 1], ["old/a", 2], ["old/b", 1],
    ]);
    // Nothing left to purge.
    expect((await tallyJson(["purge", "--db", db, "--older-than", "90d", "--dry-run"], { now })).rows).toBe(0);
  });

  test("--older-than is required and must be a duration", async () => {
    const db = purgeDb();
    expectCleanError(await tally(["purge", "--db", db]), 2, /--older-than is required/);
    expectCleanError(await tally(["purge", "--db", db, "--older-than", "90 days"]), 2, /cannot read '90 days' as a duration/);
    expectCleanError(await tally(["purge", "--db", join(tempDir(), "missing.db"), "--older-than", "90d"]), 1, /no database at/);
  });
});

describe("checkpoint", () => {
  test("PASSIVE copies the WAL into the file; --truncate empties the WAL while a writer keeps it open", async () => {
    const path = join(tempDir(), "tally.db");
    // The writer stays open, as a service would: closing the last connection would checkpoint on its own.
    const writer = openSqliteStore({ path, retentionDays: 0, checkpointEveryRows: 0 });
    try {
      // 21 batches of the ten known runs (each call makes fresh ids): 210 runs.
      for (let i = 0; i < 21; i++) expect(writer.write(usageRecords()).ok).toBe(true);
      const walBefore = statSync(`${path}-wal`).size;
      expect(walBefore).toBeGreaterThan(0);

      const passive = await tallyJson(["checkpoint", "--db", path]);
      expect(passive).toMatchObject({ mode: "PASSIVE", walBytesBefore: walBefore, busy: false });
      expect(passive.logFrames).toBeGreaterThan(0);
      expect(passive.checkpointedFrames).toBe(passive.logFrames);

      const table = await tally(["checkpoint", "--db", path, "--truncate"]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^truncate checkpoint: \d+ of \d+ WAL frames copied; WAL [\d.]+ KiB → 0 B\n$/);
      expect(statSync(`${path}-wal`).size).toBe(0);
      expect((await tallyJson(["report", "--db", path])).totals.runs).toBe(210);
    } finally {
      writer.close();
    }
  });

  test("--truncate --json reports a WAL of 0 bytes", async () => {
    const path = join(tempDir(), "tally.db");
    const writer = openSqliteStore({ path, retentionDays: 0, checkpointEveryRows: 0 });
    try {
      writer.write(usageRecords());
      const json = await tallyJson(["checkpoint", "--db", path, "--truncate"]);
      expect(json.mode).toBe("TRUNCATE");
      expect(json.walBytesBefore).toBeGreaterThan(0);
      expect(json.walBytesAfter).toBe(0);
    } finally {
      writer.close();
    }
  });
});

describe("doctor", () => {
  test("a healthy file: ✓ on every line, row counts and time spans, exit 0", async () => {
    const db = writeDb(usageRecords().filter((r) => r.kind === "execution" && r.row.costSource !== "unpriced"));
    const run = await tally(["doctor", "--db", db]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("No problems found.");
    const checks = lines.slice(0, -2);
    for (const line of checks) expect(line).toMatch(/^✓ /);
    expect(checks).toContainEqual(expect.stringMatching(/^✓ integrity +integrity_check ok$/));
    expect(checks).toContainEqual(expect.stringMatching(new RegExp(`^✓ schema +version ${SCHEMA_VERSION}$`)));
    expect(checks).toContainEqual(expect.stringMatching(/^✓ executions +8 rows, 2026-10-30T10:00:00Z … 2026-11-22T15:00:00Z$/));
    expect(checks).toContainEqual(expect.stringMatching(/^✓ tool_calls +0 rows$/));
    expect(checks).toContainEqual(expect.stringMatching(/^✓ pricing +every run has a cost$/));
    expect((await tally(["doctor", "--db", db, "--quick"])).stdout).toMatch(/^✓ integrity +quick_check ok$/m);
  });

  test("rollups: how far the hours are rolled up; a warning, with what to do, when over 100,000 runs come after them", async () => {
    const db = writeDb(usageRecords().filter((r) => r.kind === "execution" && r.row.costSource !== "unpriced"));
    const raw = new Database(db);
    const hoursTo = Number((raw.query("SELECT value FROM tally_meta WHERE key = 'hourly_to'").get() as { value: number }).value);
    const after = Number((raw.query("SELECT count(*) AS n FROM executions WHERE created_at >= ?").get(hoursTo) as { n: number }).n);
    raw.close();
    const healthy = await tally(["doctor", "--db", db]);
    expect(healthy.stdout).toMatch(new RegExp(`^✓ rollups +hours up to ${new Date(hoursTo).toISOString().replace(".000Z", "Z")}, quarter hours .*; ${after} runs after them, read raw$`, "m"));

    // 100,001 runs a writer never rolled up (as a service that stopped, then an old copy of its rows).
    const lagging = new Database(db);
    lagging.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100001)
      INSERT INTO executions (id, created_at, model, conclusion) SELECT 'late-' || i, ${hoursTo} + i, 'm', 'success' FROM n`);
    lagging.close();
    const run = await tally(["doctor", "--db", db]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^! rollups +hours up to .*; 100K runs after them, read raw \(reports over them are slower, still exact\)$/m);
    expect(run.stdout).toMatch(/^ +→ keep a writer running on the file/m);

    // A damaged span (text where a number belongs) reads as none, never a crash.
    const damaged = new Database(db);
    damaged.run("UPDATE tally_meta SET value = 'soon' WHERE key = 'hourly_to'");
    damaged.close();
    const again = await tally(["doctor", "--db", db]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("rollups");
    expect(again.stderr).toBe("");
  });

  test("unpriced models: a warning naming them, with what to do, and still exit 0", async () => {
    const run = await tally(["doctor", "--db", knownDb()]);
    expect(run.code).toBe(0);
    const line = run.stdout.split("\n").find((l) => l.startsWith("! pricing"));
    expect(line).toContain("unpriced runs:");
    expect(line).toContain("mystery-model-1 (1)");
    expect(line).toContain("local-llama (1)");
    expect(run.stdout).toMatch(/^ +→ give their prices: /m);
    expect(run.stdout).toContain("No problems found.");
  });

  test("--json: the documented shape", async () => {
    const db = knownDb();
    const doc = await tallyJson(["doctor", "--db", db]);
    expect(Object.keys(doc).sort()).toEqual(["checks", "healthy", "inspection", "path"]);
    expect(doc.path).toBe(db);
    expect(doc.healthy).toBe(true);
    for (const check of doc.checks) {
      expect(["ok", "warn", "fail"]).toContain(check.status);
      expect(typeof check.name).toBe("string");
      expect(typeof check.detail).toBe("string");
    }
    expect(doc.checks.find((c: { name: string }) => c.name === "pricing")).toMatchObject({ status: "warn", fix: expect.stringContaining("prices") });
    const inspection = doc.inspection;
    expect(Object.keys(inspection).sort()).toEqual(["fileBytes", "integrity", "legacyTables", "missingTables", "rolledUp", "schemaVersion", "tables", "unpricedModels", "walBytes"]);
    expect(inspection.missingTables).toEqual([]);
    expect(inspection.integrity).toEqual(["ok"]);
    expect(inspection.schemaVersion).toBe(SCHEMA_VERSION);
    expect(inspection.fileBytes).toBe(statSync(db).size);
    expect(inspection.tables).toEqual([
      { name: "executions", rows: 10, oldest: Date.parse("2026-10-30T10:00:00Z"), newest: Date.parse("2026-11-22T15:00:00Z") },
      { name: "rate_limit_events", rows: 5, oldest: Date.parse("2026-11-02T09:00:00Z"), newest: Date.parse("2026-11-22T09:00:00Z") },
      { name: "tool_calls", rows: 10, oldest: Date.parse("2026-11-02T10:00:00Z"), newest: Date.parse("2026-11-22T11:00:00Z") },
      { name: "sessions", rows: 0, oldest: null, newest: null },
      { name: "cache_events", rows: 10, oldest: Date.parse("2026-11-02T09:00:00Z"), newest: Date.parse("2026-11-22T09:05:00Z") },
    ]);
    expect([...inspection.unpricedModels].sort((a, b) => a.model.localeCompare(b.model))).toEqual([
      { model: "local-llama", runs: 1 },
      { model: "mystery-model-1", runs: 1 },
    ]);
    expect(inspection.legacyTables).toEqual([]);
  });

  test("a corrupt file (random bytes): ✗ not a database, a fix line, exit 1", async () => {
    const path = join(tempDir(), "tally.db");
    writeFileSync(path, junk(64 * 1024));
    const run = await tally(["doctor", "--db", path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✗ file +.*not a database/m);
    expect(run.stdout).toMatch(/^ +→ .*restore it from a backup/m);
    expect(run.stdout).toContain("Problems found");
    expect(run.stderr).not.toMatch(/^ {4}at /m);
    const json = await tally(["doctor", "--db", path, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: false, inspection: null, checks: [{ name: "file", status: "fail" }] });
  });

  test("a schema newer than this tally: ✗ with 'upgrade tally', exit 1", async () => {
    const path = writeDb(usageRecords());
    const raw = new Database(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    const run = await tally(["doctor", "--db", path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^✗ schema +version 99 is newer than this tally \\(${SCHEMA_VERSION}\\)$`, "m"));
    expect(run.stdout).toMatch(/^ +→ upgrade tally$/m);
  });

  test("a schema older than this tally: ✗ with the migrate command, exit 1", async () => {
    const path = join(tempDir(), "legacy.db");
    copyFileSync(LEGACY_FIXTURE, path);
    const run = await tally(["doctor", "--db", path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^✗ schema +version 0, this tally writes ${SCHEMA_VERSION}$`, "m"));
    expect(run.stdout).toContain(`→ tally migrate --db ${path}`);
    // Its times are ISO text, not epoch ms: counted, without a time span.
    expect(run.stdout).toMatch(/^✓ executions +3 rows$/m);
    expect(run.stderr).toBe("");
  });

  test("a missing file or a directory: ✗ with a fix, exit 1", async () => {
    const missing = await tally(["doctor", "--db", join(tempDir(), "nope.db")]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^✗ file +no database at .*nope\.db$/m);
    expect(missing.stdout).toContain("→ point at one with --db PATH or TALLY_DB");
    const dir = await tally(["doctor", "--db", tempDir()]);
    expect(dir.code).toBe(1);
    expect(dir.stdout).toMatch(/^✗ file +.* is a directory$/m);
  });
});

describe("migrate", () => {
  function legacyCopy(): string {
    const path = join(tempDir(), "legacy.db");
    copyFileSync(LEGACY_FIXTURE, path);
    return path;
  }

  test("the legacy review-bot file: reports refuse it until migrated, then show its 3 runs", async () => {
    const path = legacyCopy();
    expectCleanError(await tally(["report", "--db", path]), 1, new RegExp(`has schema version 0; this tally reads version ${SCHEMA_VERSION}`));
    expect((await tally(["report", "--db", path])).stderr).toContain(`tally migrate --db ${path}`);

    expect(await tally(["migrate", "--db", path])).toEqual({ code: 0, stdout: `migrated schema version 0 → ${SCHEMA_VERSION}\n`, stderr: "" });
    expect(await tally(["migrate", "--db", path])).toEqual({ code: 0, stdout: `schema is up to date (version ${SCHEMA_VERSION})\n`, stderr: "" });

    for (const exact of [[], ["--exact"]]) {
      const report = await tallyJson(["report", "--db", path, ...exact]);
      expect(report.rows.map((r: { group: { day: string }; runs: number }) => [r.group.day, r.runs])).toEqual([["2026-11-01", 2], ["2026-11-02", 1]]);
      expect(report.totals).toMatchObject({
        runs: 3, successes: 1, failures: 1, errors: 1, inputTokens: 7000, outputTokens: 1400, cacheReadTokens: 1050, cacheCreationTokens: 10,
        unpricedRuns: 0, meanDurationMs: 143000 / 3,
      });
      expect(report.totals.costUsd).toBeCloseTo(0.156, 12);
    }
    const byRepo = await tallyJson(["report", "--db", path, "--by", "repo,model"]);
    expect(byRepo.rows.map((r: { group: Record<string, string>; runs: number }) => [r.group.repo, r.group.model, r.runs])).toEqual([
      ["acme/api", "claude-sonnet-4-5", 2],
      ["acme/web", "claude-opus-4-1", 1],
    ]);
    const degraded = await tallyJson(["degradations", "--db", path]);
    expect([degraded.totals.degradedRuns, degraded.totals.retryAttempts, degraded.totals.skippedQueries, degraded.totalRuns]).toEqual([2, 6, 6, 3]);
    const doctor = await tally(["doctor", "--db", path]);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/^✓ legacy +kept from a pre-versioned database: legacy_executions, legacy_rate_limit_events/m);
  });

  test("--json", async () => {
    const path = legacyCopy();
    expect(await tallyJson(["migrate", "--db", path])).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(await tallyJson(["migrate", "--db", path])).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
  });

  test("a missing file, or one newer than this tally: exit 1", async () => {
    expectCleanError(await tally(["migrate", "--db", join(tempDir(), "nope.db")]), 1, /no database at/);
    const path = writeDb(usageRecords());
    const raw = new Database(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    const run = await tally(["migrate", "--db", path]);
    expectCleanError(run, 1, /newer than this Tally/);
    expect(run.stderr).toContain("hint: upgrade tally");
    expect(fingerprint(path).tables.executions).toBe(10);
  });

  test("a directory where the file should be: exit 1", async () => {
    const dir = join(tempDir(), "a-directory.db");
    mkdirSync(dir);
    expectCleanError(await tally(["migrate", "--db", dir]), 1, /./);
  });
});
