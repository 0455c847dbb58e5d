/**
 * The migration to schema 5 on a schema-4 file written by that code (kept as a fixture:
 * test/fixtures/sqlite/schema-v4.db, ~10 days of runs, its hours rolled up): quarter_hour_usage
 * is built from the raw rows of the hours already rolled up, equal to sums worked out here; a
 * day of a +05:45 zone is then read from rollups alone, with no raw row; after a purge of raw
 * rows the quarter hours start where the raw rows do, and reports before that read the daily
 * rollups as before.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { addEncodedBuckets, durationBucket } from "../../src/core/duration-buckets.ts";
import { reportProgram } from "../../src/report/report-program.ts";
import type { UsageReport, UsageReportSpec } from "../../src/report/spec.ts";
import { runProgram } from "../../src/report/sql/query.ts";
import { sqliteDialect } from "../../src/store/sqlite/dialect.ts";
import { openSqliteStore, SCHEMA_VERSION } from "../../src/store/sqlite/index.ts";
import { execution } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

type Row = Record<string, unknown>;
const V4_FIXTURE = join(import.meta.dir, "../fixtures/sqlite/schema-v4.db");
const QUARTER = 900_000;
const HOUR = 3_600_000;
const DAY_MS = 24 * HOUR;
afterAll(removeTempDirs);

function copyOfFixture(): string {
  const path = join(tempDir(), "v4.db");
  copyFileSync(V4_FIXTURE, path);
  return path;
}

/** The quarter hours as the raw rows of [from, to) say they should be, summed here, and as stored. */
function quarterHours(path: string, from: number, to: number) {
  const db = new Database(path, { readonly: true });
  const expected = new Map<number, { sums: number[]; buckets: Map<number, number> }>();
  for (const r of db.query("SELECT * FROM executions WHERE created_at >= ? AND created_at < ?").all(from, to) as Row[]) {
    const quarter = Math.floor(Number(r.created_at) / QUARTER) * QUARTER;
    const entry = expected.get(quarter) ?? { sums: [0, 0, 0, 0, 0, 0, 0], buckets: new Map<number, number>() };
    const add = [1, r.conclusion === "success" ? 1 : 0, r.conclusion === "failure" ? 1 : 0, r.conclusion === "error" ? 1 : 0, Number(r.input_tokens), Number(r.output_tokens), Number(r.duration_ms)];
    entry.sums = entry.sums.map((v, i) => v + add[i]!);
    const bucket = durationBucket(Number(r.duration_ms));
    entry.buckets.set(bucket, (entry.buckets.get(bucket) ?? 0) + 1);
    expected.set(quarter, entry);
  }
  const stored = new Map<number, { sums: number[]; buckets: Map<number, number> }>();
  for (const r of db.query("SELECT * FROM quarter_hour_usage").all() as Row[]) {
    const buckets = new Map<number, number>();
    addEncodedBuckets(buckets, r.duration_buckets);
    const sums = [r.runs, r.successes, r.failures, r.errors, r.input_tokens, r.output_tokens, r.duration_ms].map(Number);
    stored.set(Number(r.quarter_hour), { sums, buckets });
  }
  const meta = (key: string) => Number((db.query("SELECT value FROM tally_meta WHERE key = ?").get(key) as Row | null)?.value);
  const span = { hourly: [meta("hourly_from"), meta("hourly_to")], quarterHours: [meta("quarter_hours_from"), meta("quarter_hours_to")] };
  db.close();
  const sorted = (m: typeof expected) => [...m].sort(([a], [b]) => a - b).map(([q, e]) => [q, e.sums, [...e.buckets].sort(([a], [b]) => a - b)]);
  return { expected: sorted(expected), stored: sorted(stored), span };
}

/** A usage report run statement by statement, with the tables each statement read. */
function reportWithTables(path: string, spec: UsageReportSpec): { report: UsageReport; tables: string[] } {
  const db = new Database(path, { readonly: true });
  const tables: string[] = [];
  const report = runProgram(reportProgram(sqliteDialect, spec), (query) => {
    const table = /\bFROM (\w+)/.exec(query.sql)?.[1];
    if (table !== undefined && table !== "tally_meta") tables.push(table);
    return db.prepare(query.sql).all(...(query.params as never[])) as Row[];
  }) as UsageReport;
  db.close();
  return { report, tables };
}

const numbers = (r: UsageReport) => r.rows.map((row) => [row.group, row.runs, row.successes, row.failures, row.errors, row.inputTokens, row.outputTokens, row.unpricedRuns]);

describe("the migration to schema 5", () => {
  test("a schema-4 file gains quarter_hour_usage, built from the raw rows of the hours rolled up; nothing else changes", () => {
    const path = copyOfFixture();
    const before = new Database(path, { readonly: true });
    const untouched = () => ["hourly_model_usage", "hourly_usage", "daily_model_usage", "daily_usage", "executions"].map((t) => before.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all());
    const tablesBefore = untouched();
    before.close();

    const store = openSqliteStore({ path, retentionDays: 0 });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    const again = new Database(path, { readonly: true });
    expect(["hourly_model_usage", "hourly_usage", "daily_model_usage", "daily_usage", "executions"].map((t) => again.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all())).toEqual(tablesBefore);
    again.close();

    const { expected, stored, span } = quarterHours(path, 0, Date.UTC(2026, 10, 8, 5));
    expect(span.hourly).toEqual([0, Date.UTC(2026, 10, 8, 5)]);
    expect(span.quarterHours).toEqual(span.hourly);
    expect(stored.length).toBeGreaterThan(300); // the fixture's runs fall in hundreds of quarter hours
    expect(stored).toEqual(expected);
  });

  test("a day of Asia/Kathmandu (+05:45) and hours of Asia/Kolkata (+05:30) are read from quarter hours alone, equal to --exact", () => {
    const path = copyOfFixture();
    openSqliteStore({ path, retentionDays: 0 }).close();
    // Kathmandu's 2026-11-01 … 2026-11-07, which all end before the hours rolled up do.
    const since = Date.UTC(2026, 9, 31, 18, 15);
    const until = Date.UTC(2026, 10, 7, 18, 15);
    for (const [timeZone, by] of [["Asia/Kathmandu", "day"], ["Asia/Kolkata", "hour"], ["Asia/Kathmandu", "week"]] as const) {
      const spec: UsageReportSpec = { kind: "usage", groupBy: [by], range: { since, until }, timeZone };
      const rollups = reportWithTables(path, spec);
      const exact = reportWithTables(path, { ...spec, exact: true });
      expect(rollups.report.source).toBe("rollups");
      expect(new Set(rollups.tables)).toEqual(new Set(["quarter_hour_usage"]));
      expect(numbers(rollups.report)).toEqual(numbers(exact.report));
      expect(rollups.report.rows.length).toBeGreaterThan(1);
    }
    // Grouped by anything else, or filtered, the other rollups answer as before.
    const byRepo = reportWithTables(path, { kind: "usage", groupBy: ["day", "repo"], range: { since, until }, timeZone: "Asia/Kathmandu" });
    expect(byRepo.tables).not.toContain("quarter_hour_usage");
    const filtered = reportWithTables(path, { kind: "usage", groupBy: ["day"], range: { since, until }, timeZone: "UTC", filters: { repos: ["*"] } });
    expect(filtered.tables).not.toContain("quarter_hour_usage");
  });

  test("a writer behind by more than a day (one large batch): reports by time read the daily rollups, not days of raw rows after the quarter hours", () => {
    const path = copyOfFixture();
    const start = Date.UTC(2026, 10, 8, 6);
    // Three days of runs in one write: the writer rolls up only a few of their hours.
    const late = Array.from({ length: 3 * 24 * 4 }, (_, i) => execution({ id: `late-${i}`, createdAt: start + i * 900_000 + 7, repo: `r/${i % 3}`, durationMs: 100 + i }));
    const store = openSqliteStore({ path, retentionDays: 0, now: () => Date.UTC(2026, 10, 12) });
    expect(store.write(late).ok).toBe(true);
    store.close();
    const { span } = quarterHours(path, 0, 0);
    expect(span.quarterHours[1]!).toBeLessThan(start + DAY_MS);
    const spec: UsageReportSpec = { kind: "usage", groupBy: ["day"], range: { since: Date.UTC(2026, 10, 7), until: Date.UTC(2026, 10, 11, 12) }, timeZone: "UTC" };
    const behind = reportWithTables(path, spec);
    expect(behind.tables).not.toContain("quarter_hour_usage");
    expect(behind.tables).toContain("daily_model_usage");
    expect(numbers(behind.report)).toEqual(numbers(reportWithTables(path, { ...spec, exact: true }).report));
  });

  test("raw rows purged before the migration: the quarter hours start at the first whole hour still held; earlier ranges read the daily rollups", () => {
    const path = copyOfFixture();
    const cutoff = Date.UTC(2026, 10, 3, 10, 20);
    const untilRolled = Date.UTC(2026, 10, 8);
    const spec: UsageReportSpec = { kind: "usage", groupBy: ["day"], range: { since: Date.UTC(2026, 9, 29), until: untilRolled }, timeZone: "UTC" };
    const beforePurge = reportWithTables(path, spec).report;
    // As the schema-4 purge leaves it: raw rows gone, the hours rolled up before them kept.
    const db = new Database(path);
    db.query("DELETE FROM executions WHERE created_at < ?").run(cutoff);
    db.query("INSERT INTO tally_meta (key, value) VALUES ('purged_before:executions', ?)").run(cutoff);
    db.close();
    openSqliteStore({ path, retentionDays: 0 }).close();

    const { expected, stored, span } = quarterHours(path, 0, Date.UTC(2026, 10, 8, 5));
    expect(span.quarterHours).toEqual([Math.ceil(cutoff / HOUR) * HOUR, span.hourly[1]!]);
    expect(stored).toEqual(expected.filter(([quarter]) => (quarter as number) >= span.quarterHours[0]!));
    const afterPurge = reportWithTables(path, spec);
    expect(afterPurge.tables).not.toContain("quarter_hour_usage");
    expect(numbers(afterPurge.report)).toEqual(numbers(beforePurge));
    // A range inside the quarter hours' span still reads them.
    const recent = reportWithTables(path, { ...spec, range: { since: Date.UTC(2026, 10, 4), until: untilRolled } });
    expect(recent.tables).toEqual(expect.arrayContaining(["quarter_hour_usage"]));
  });
});
