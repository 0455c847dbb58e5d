/**
 * Hourly rollups (schema 2): the writer rolls up each closed hour from its raw rows, a few
 * hours per write; rows that arrive for an hour already rolled up send it back to be rolled up
 * again. Whatever happens, every hour in the covered span [hourly_from, hourly_to) equals its
 * raw rows, and reports read those hours from them.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { addEncodedBuckets, durationBucket } from "../../src/core/duration-buckets.ts";
import type { StoredRecord } from "../../src/core/rows.ts";
import type { UsageReportSpec } from "../../src/report/spec.ts";
import { openSqliteStore, SCHEMA_VERSION } from "../../src/store/sqlite/index.ts";
import { execution } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

type Row = Record<string, unknown>;

/** The covered span and, for the hours in it, the hourly rows next to the raw rows' own sums and buckets. */
function covered(path: string) {
  const db = new Database(path, { readonly: true });
  const meta = (key: string) => Number((db.query("SELECT value FROM tally_meta WHERE key = ?").get(key) as Row | null)?.value ?? Number.NaN);
  const from = meta("hourly_from");
  const to = meta("hourly_to");
  const hourly = db.query(`SELECT hour, repo, provider, model, runs, successes, failures, errors, input_tokens, output_tokens, cost_usd, unpriced_runs, duration_ms
    FROM hourly_model_usage WHERE hour >= ? AND hour < ? ORDER BY 1, 2, 3, 4`).all(from, to);
  const raw = db.query(`SELECT (created_at / 3600000) * 3600000 AS hour, repo, provider, model, count(*) AS runs, sum(conclusion = 'success') AS successes,
      sum(conclusion = 'failure') AS failures, sum(conclusion = 'error') AS errors, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
      sum(cost_usd) AS cost_usd, sum(cost_source = 'unpriced') AS unpriced_runs, sum(duration_ms) AS duration_ms
    FROM executions WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`).all(from, to);
  const sketches = db.query("SELECT hour, repo, provider, model, duration_buckets FROM hourly_model_usage WHERE hour >= ? AND hour < ?").all(from, to) as Row[];
  const rawDurations = db.query("SELECT created_at, repo, provider, model, duration_ms FROM executions WHERE created_at >= ? AND created_at < ?").all(from, to) as Row[];
  // The event × conclusion twin: its rows against the raw rows grouped the same way.
  const usageHourly = db.query(`SELECT hour, repo, event_type, provider, model, conclusion, runs, input_tokens, output_tokens, cost_usd, unpriced_runs, duration_ms
    FROM hourly_usage WHERE hour >= ? AND hour < ? ORDER BY 1, 2, 3, 4, 5, 6`).all(from, to);
  const usageRaw = db.query(`SELECT (created_at / 3600000) * 3600000 AS hour, repo, event_type, provider, model, conclusion, count(*) AS runs,
      sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd, sum(cost_source = 'unpriced') AS unpriced_runs,
      sum(duration_ms) AS duration_ms
    FROM executions WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`).all(from, to);
  // The quarter hours (schema 5), rolled up in the same step over the same span.
  const quarterHourly = db.query(`SELECT quarter_hour, runs, successes, failures, errors, input_tokens, output_tokens, cost_usd, unpriced_runs, duration_ms
    FROM quarter_hour_usage WHERE quarter_hour >= ? AND quarter_hour < ? ORDER BY 1`).all(from, to);
  const quarterRaw = db.query(`SELECT (created_at / 900000) * 900000 AS quarter_hour, count(*) AS runs, sum(conclusion = 'success') AS successes,
      sum(conclusion = 'failure') AS failures, sum(conclusion = 'error') AS errors, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
      sum(cost_usd) AS cost_usd, sum(cost_source = 'unpriced') AS unpriced_runs, sum(duration_ms) AS duration_ms
    FROM executions WHERE created_at >= ? AND created_at < ? GROUP BY 1 ORDER BY 1`).all(from, to);
  const quarterSketches = db.query("SELECT quarter_hour, duration_buckets FROM quarter_hour_usage WHERE quarter_hour >= ? AND quarter_hour < ?").all(from, to) as Row[];
  const quarterMeta = [meta("quarter_hours_from"), meta("quarter_hours_to")];
  const outside =
    Number((db.query("SELECT count(*) AS n FROM hourly_model_usage WHERE hour < ? OR hour >= ?").get(from, to) as Row).n) +
    Number((db.query("SELECT count(*) AS n FROM hourly_usage WHERE hour < ? OR hour >= ?").get(from, to) as Row).n) +
    Number((db.query("SELECT count(*) AS n FROM quarter_hour_usage WHERE quarter_hour < ? OR quarter_hour >= ?").get(from, to) as Row).n);
  db.close();
  const expectedBuckets = new Map<string, number>();
  for (const r of rawDurations) {
    const key = `${Math.floor(Number(r.created_at) / HOUR) * HOUR}|${r.repo}|${r.provider}|${r.model}|${durationBucket(Number(r.duration_ms))}`;
    expectedBuckets.set(key, (expectedBuckets.get(key) ?? 0) + 1);
    const quarterKey = `q|${Math.floor(Number(r.created_at) / 900_000) * 900_000}|${durationBucket(Number(r.duration_ms))}`;
    expectedBuckets.set(quarterKey, (expectedBuckets.get(quarterKey) ?? 0) + 1);
  }
  const actualBuckets = new Map<string, number>();
  for (const row of sketches) {
    const counts = new Map<number, number>();
    addEncodedBuckets(counts, row.duration_buckets);
    for (const [bucket, n] of counts) actualBuckets.set(`${row.hour}|${row.repo}|${row.provider}|${row.model}|${bucket}`, n);
  }
  for (const row of quarterSketches) {
    const counts = new Map<number, number>();
    addEncodedBuckets(counts, row.duration_buckets);
    for (const [bucket, n] of counts) actualBuckets.set(`q|${row.quarter_hour}|${bucket}`, n);
  }
  // Costs summed in another order may differ in the last bits: compare them to the nano-dollar.
  const cents = (rows: Row[]) => rows.map((r) => ({ ...r, cost_usd: Math.round(Number(r.cost_usd) * 1e9) / 1e9 }));
  return {
    from,
    to,
    // Both hourly tables, each next to the raw rows grouped as it is: one comparison checks both.
    hourly: [...cents(hourly as Row[]), ...cents(usageHourly as Row[]), ...cents(quarterHourly as Row[])],
    raw: [...cents(raw as Row[]), ...cents(usageRaw as Row[]), ...cents(quarterRaw as Row[])],
    /** The quarter hours' span: the hourly one, or later (see backfillQuarterHours). */
    quarterSpanEndsWithHours: quarterMeta[1] === to && quarterMeta[0]! >= from,
    outside,
    buckets: [...actualBuckets].sort(),
    expectedBuckets: [...expectedBuckets].sort(),
  };
}

/** Executions over `hours` hours from T0, a few per hour, in time order. */
function runsOver(hours: number, prefix: string): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (let i = 0; i < hours * 3; i++) {
    out.push(execution({ id: `${prefix}-${i}`, createdAt: T0 + Math.floor(i * (HOUR / 3)) + 7, repo: i % 2 ? "a/x" : "a/y", model: i % 5 ? "m1" : "m2",
      conclusion: ["success", "failure", "error"][i % 3]!, inputTokens: i, outputTokens: 2 * i, costUsd: (i % 8) / 8, durationMs: 1 + ((i * 7919) % 90_000) }));
  }
  return out;
}

describe("hourly rollups", () => {
  test("a writer whose clock moves on rolls up each closed hour, a few per write; the span's hours equal the raw rows", () => {
    const path = join(tempDir(), "t.db");
    let clock = T0;
    const store = openSqliteStore({ path, retentionDays: 0, now: () => clock });
    const records = runsOver(48, "r");
    for (let i = 0; i < records.length; i += 6) {
      const batch = records.slice(i, i + 6);
      clock = (batch[batch.length - 1]!.row as { createdAt: number }).createdAt + 1;
      expect(store.write(batch).ok).toBe(true);
    }
    store.close();
    const c = covered(path);
    expect(c.from).toBe(0);
    // Every hour that closed (over 5 minutes ago) before the last write is in the span.
    expect(c.to).toBe(T0 + 47 * HOUR);
    expect(c.hourly.length).toBeGreaterThan(47 * 2);
    expect(c.hourly).toEqual(c.raw);
    expect(c.quarterSpanEndsWithHours).toBe(true);
    expect(c.buckets).toEqual(c.expectedBuckets);
    expect(c.outside).toBe(0);
  });

  test("rows arriving for hours already rolled up: those hours are rolled up again, still equal to the raw rows", () => {
    const path = join(tempDir(), "t.db");
    let clock = T0 + 100 * HOUR;
    const store = openSqliteStore({ path, retentionDays: 0, now: () => clock });
    const first = runsOver(10, "a");
    for (let i = 0; i < 10; i++) expect(store.write(first.slice(i * 3, i * 3 + 3)).ok).toBe(true);
    // Hour 9 is closed, but the runs written have not moved past it yet: it waits.
    expect(covered(path).to).toBe(T0 + 9 * HOUR);
    // Late rows into hour 3 (an import, a replay with new ids): the span ends before hour 3 again.
    const late = runsOver(1, "late").map((r) => ({ ...r, row: { ...r.row, createdAt: (r.row as { createdAt: number }).createdAt + 3 * HOUR } })) as StoredRecord[];
    expect(store.write(late).ok).toBe(true);
    const after = covered(path);
    expect(after.to).toBeLessThanOrEqual(T0 + 7 * HOUR); // back to hour 3, then up to 4 hours rolled up again
    expect(after.hourly).toEqual(after.raw);
    expect(after.quarterSpanEndsWithHours).toBe(true);
    // A replay of the same rows (duplicates) changes nothing.
    expect(store.write(late)).toMatchObject({ ok: true, inserted: 0 });
    for (let i = 0; i < 5; i++) store.write([execution({ createdAt: T0 + 99 * HOUR + i })]);
    const done = covered(path);
    expect(done.to).toBe(T0 + 99 * HOUR);
    expect(done.hourly).toEqual(done.raw);
    expect(done.quarterSpanEndsWithHours).toBe(true);
    expect(done.buckets).toEqual(done.expectedBuckets);
    // Reports read the covered hours from the rollups and equal a raw scan.
    const strip = (rows: object[]) => rows.map(({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: any) => rest);
    for (const [timeZone, unit] of [["Asia/Kolkata", "day"], ["UTC", "hour"], ["Asia/Kathmandu", "hour"]] as const) {
      const spec = { kind: "usage", groupBy: [unit, "repo"], range: { since: T0 + 1.5 * HOUR, until: T0 + 9.5 * HOUR }, timeZone } satisfies UsageReportSpec;
      const report = store.report(spec);
      // Kathmandu's hours start at :45 past UTC's: no whole UTC hour fits in one, so raw rows answer.
      expect(report.source).toBe(timeZone === "Asia/Kathmandu" ? "raw" : "rollups");
      expect(strip(report.rows)).toEqual(strip(store.report({ ...spec, exact: true }).rows));
    }
    store.close();
  });

  test("a purge of raw rows the writer never rolled up restarts the span after the cut-off", () => {
    const path = join(tempDir(), "t.db");
    let clock = T0;
    const store = openSqliteStore({ path, retentionDays: 0, now: () => clock });
    // Written while their hours were open: nothing rolled up yet.
    for (const r of runsOver(20, "p")) store.write([r]);
    expect(covered(path).to).toBeLessThan(T0 + HOUR);
    clock = T0 + 40 * 86_400_000;
    store.purgeOlderThan(30); // cut-off: T0 + 10 days, after every row
    const c = covered(path);
    expect(c.from).toBe(T0 + 10 * 86_400_000);
    expect(c.to).toBe(c.from);
    expect(c.outside).toBe(0);
    store.close();
  });
});

describe("the migration to schema 2", () => {
  const V1_FIXTURE = join(import.meta.dir, "../fixtures/sqlite/schema-v1.db");

  test("a schema-1 file (written by that code, kept as a fixture) gains the hourly tables, covering nothing until the writer rolls up; reports stay exact", () => {
    const path = join(tempDir(), "v1.db");
    copyFileSync(V1_FIXTURE, path);
    const before = new Database(path, { readonly: true });
    expect((before.query("PRAGMA user_version").get() as Row).user_version).toBe(1);
    const daily = before.query("SELECT * FROM daily_usage ORDER BY 1, 2, 3, 4, 5, 6").all();
    before.close();

    // The fixture's runs are in 2026-10-20 … 2026-11-09.
    let clock = Date.UTC(2026, 10, 10);
    const store = openSqliteStore({ path, retentionDays: 0, now: () => clock });
    const c = covered(path);
    expect([c.from, c.to, c.hourly.length]).toEqual([0, 0, 0]);
    const spec: UsageReportSpec = { kind: "usage", groupBy: ["day", "repo"], range: { since: Date.UTC(2026, 9, 22, 7, 20), until: Date.UTC(2026, 10, 3, 16, 50) }, timeZone: "Asia/Kolkata" };
    const strip = (rows: object[]) => rows.map(({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: any) => rest);
    const exact = strip(store.report({ ...spec, exact: true }).rows);
    expect(strip(store.report(spec).rows)).toEqual(exact);
    // New runs: the writer rolls up the old hours, a few per write, from the raw rows still held.
    for (let i = 0; i < 150; i++) {
      clock += 60_000;
      store.write([execution({ createdAt: clock - 30_000 })]);
    }
    const after = covered(path);
    expect(after.to).toBeGreaterThan(Date.UTC(2026, 10, 9));
    expect(after.hourly).toEqual(after.raw);
    expect(after.quarterSpanEndsWithHours).toBe(true);
    expect(after.buckets).toEqual(after.expectedBuckets);
    expect(strip(store.report(spec).rows)).toEqual(exact);
    store.close();
    // The daily rollups are as the schema-1 code left them.
    const again = new Database(path, { readonly: true });
    expect(again.query("SELECT * FROM daily_usage WHERE day < '2026-11-10' ORDER BY 1, 2, 3, 4, 5, 6").all()).toEqual(daily);
    expect((again.query("PRAGMA user_version").get() as Row).user_version).toBe(SCHEMA_VERSION);
    again.close();
  });
});

describe("the migration to schema 3", () => {
  const V2_FIXTURE = join(import.meta.dir, "../fixtures/sqlite/schema-v2.db");

  test("a schema-2 file (written by that code, kept as a fixture) gains hourly_usage; both hourly tables are rolled up again from the raw rows; reports by event and conclusion stay exact", () => {
    const path = join(tempDir(), "v2.db");
    copyFileSync(V2_FIXTURE, path);
    const before = new Database(path, { readonly: true });
    expect((before.query("PRAGMA user_version").get() as Row).user_version).toBe(2);
    expect(Number((before.query("SELECT count(*) AS n FROM hourly_model_usage").get() as Row).n)).toBeGreaterThan(0);
    const daily = before.query("SELECT * FROM daily_usage ORDER BY 1, 2, 3, 4, 5, 6").all();
    const rawCount = Number((before.query("SELECT count(*) AS n FROM executions").get() as Row).n);
    before.close();

    // The fixture's runs end on 2026-11-10 at 03:20 UTC.
    let clock = Date.UTC(2026, 10, 10, 6);
    const store = openSqliteStore({ path, retentionDays: 0, now: () => clock });
    const fresh = covered(path);
    expect([fresh.from, fresh.to, fresh.hourly.length, fresh.outside]).toEqual([0, 0, 0, 0]);
    const spec: UsageReportSpec = { kind: "usage", groupBy: ["day", "event", "conclusion"], range: { since: Date.UTC(2026, 9, 22, 7, 20), until: Date.UTC(2026, 10, 10, 2, 50) }, timeZone: "Asia/Kolkata" };
    // Costs summed in another order may differ in the last bits: compared to the nano-dollar.
    const strip = (rows: object[]) => rows.map(({ p50DurationMs: _a, p95DurationMs: _b, costUsd, ...rest }: any) => ({ ...rest, costUsd: Math.round(costUsd * 1e9) / 1e9 }));
    const exact = strip(store.report({ ...spec, exact: true }).rows);
    expect(exact.length).toBeGreaterThan(0);
    expect(strip(store.report(spec).rows)).toEqual(exact);
    for (let i = 0; i < 150; i++) {
      clock += 60_000;
      store.write([execution({ createdAt: clock - 30_000, eventType: i % 2 ? "pull_request" : "push", conclusion: i % 3 ? "success" : "error" })]);
    }
    const after = covered(path);
    expect(after.to).toBeGreaterThan(Date.UTC(2026, 10, 10));
    expect(after.hourly).toEqual(after.raw);
    expect(after.quarterSpanEndsWithHours).toBe(true);
    expect(after.hourly.some((r) => "event_type" in r)).toBe(true);
    expect(strip(store.report(spec).rows)).toEqual(exact);
    store.close();
    const again = new Database(path, { readonly: true });
    // Additive: raw rows and the daily rollups of the days before are as schema 2 left them.
    expect(again.query("SELECT * FROM daily_usage WHERE day < '2026-11-10' ORDER BY 1, 2, 3, 4, 5, 6").all()).toEqual(
      daily.filter((r) => String((r as Row).day) < "2026-11-10"),
    );
    expect(Number((again.query("SELECT count(*) AS n FROM executions").get() as Row).n)).toBe(rawCount + 150);
    expect((again.query("PRAGMA user_version").get() as Row).user_version).toBe(SCHEMA_VERSION);
    again.close();
  });
});
