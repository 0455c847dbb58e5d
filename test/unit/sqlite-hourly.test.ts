/**
 * Hourly rollups (schema 2): kept by the write path beside the daily ones, and built by the
 * migration from the raw rows a schema-1 database still holds (a copy of a file written by
 * the schema-1 code, kept as a fixture). Either way every hour's sums equal its raw rows'.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { UsageReportSpec } from "../../src/report/spec.ts";
import { SCHEMA_VERSION } from "../../src/store/sqlite/migrations.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { execution, toolCall } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

const V1_FIXTURE = join(import.meta.dir, "../fixtures/sqlite/schema-v1.db");

/** Per-hour sums of the raw rows and of the hourly rollups, side by side. */
function hourlyAgainstRaw(path: string) {
  const db = new Database(path, { readonly: true });
  const query = (sql: string) => db.query(sql).all();
  const result = {
    raw: query(`SELECT (created_at / 3600000) * 3600000 AS hour, repo, event_type, provider, model, conclusion, count(*) AS runs,
        sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cr, sum(cache_creation_tokens) AS cw,
        sum(cost_usd) AS cost, sum(cost_source = 'unpriced') AS unpriced, sum(duration_ms) AS dur
      FROM executions GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`),
    hourly: query(`SELECT hour, repo, event_type, provider, model, conclusion, runs, input_tokens AS input, output_tokens AS output,
        cache_read_tokens AS cr, cache_creation_tokens AS cw, cost_usd AS cost, unpriced_runs AS unpriced, duration_ms AS dur
      FROM hourly_usage ORDER BY 1, 2, 3, 4, 5, 6`),
    rawModels: query(`SELECT (created_at / 3600000) * 3600000 AS hour, repo, provider, model, count(*) AS runs, sum(conclusion = 'success') AS ok
      FROM executions GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`),
    hourlyModels: query(`SELECT hour, repo, provider, model, runs, successes AS ok FROM hourly_model_usage ORDER BY 1, 2, 3, 4`),
    rawTools: query(`SELECT (created_at / 3600000) * 3600000 AS hour, server, tool_name, outcome, count(*) AS calls, sum(duration_ms) AS dur
      FROM tool_calls GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`),
    hourlyTools: query(`SELECT hour, server, tool_name, outcome, calls, duration_ms AS dur FROM hourly_tool_usage ORDER BY 1, 2, 3, 4`),
    meta: db.query("SELECT value FROM tally_meta WHERE key = 'hourly_rollups_from'").get() as { value: number } | null,
    version: (db.query("PRAGMA user_version").get() as { user_version: number }).user_version,
  };
  db.close();
  return result;
}

describe("hourly rollups", () => {
  test("the migration from schema 1 builds them from the raw rows, additively; reports then read them", () => {
    const path = join(tempDir(), "v1.db");
    copyFileSync(V1_FIXTURE, path);
    const before = new Database(path, { readonly: true });
    const daily = before.query("SELECT * FROM daily_usage ORDER BY 1, 2, 3, 4, 5, 6").all();
    expect((before.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(1);
    before.close();

    const store = openSqliteStore({ path, retentionDays: 0 });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    const after = hourlyAgainstRaw(path);
    expect(after.version).toBe(2);
    expect(after.raw.length).toBeGreaterThan(100);
    expect(after.hourly).toEqual(after.raw);
    expect(after.hourlyModels).toEqual(after.rawModels);
    expect(after.hourlyTools).toEqual(after.rawTools);
    // Nothing was ever purged: the hourly rollups hold every row from the start.
    expect(after.meta?.value).toBe(0);
    // The daily rollups are as the schema-1 code left them.
    const again = new Database(path, { readonly: true });
    expect(again.query("SELECT * FROM daily_usage ORDER BY 1, 2, 3, 4, 5, 6").all()).toEqual(daily);
    again.close();

    // A rolling range in a +05:45 zone reads whole hours from them and equals a raw scan.
    const reader = openSqliteStore({ path, readonly: true });
    const spec: UsageReportSpec = { kind: "usage", groupBy: ["day", "repo"], range: { since: Date.UTC(2026, 9, 22, 7, 20), until: Date.UTC(2026, 10, 3, 16, 50) }, timeZone: "Asia/Kathmandu" };
    const fromRollups = reader.report(spec);
    const exact = reader.report({ ...spec, exact: true });
    const strip = (rows: object[]) => rows.map(({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: any) => rest);
    expect(fromRollups.source).toBe("rollups");
    expect(strip(fromRollups.rows)).toEqual(strip(exact.rows));
    reader.close();
  });

  test("the write path keeps them for rows actually inserted: replays and duplicates add nothing", () => {
    const path = join(tempDir(), "t.db");
    const store = openSqliteStore({ path, retentionDays: 0 });
    const records = Array.from({ length: 300 }, (_, i) => [
      execution({ id: `e${i}`, createdAt: Date.UTC(2026, 10, 1) + i * 397_000, repo: i % 2 ? "a/x" : "a/y", conclusion: i % 3 ? "success" : "failure", durationMs: i * 10 }),
      toolCall({ id: `t${i}`, createdAt: Date.UTC(2026, 10, 1) + i * 397_000, toolName: i % 2 ? "grep" : "read" }),
    ]).flat();
    expect(store.write(records)).toMatchObject({ ok: true, inserted: 600 });
    expect(store.write(records.slice(0, 100))).toMatchObject({ ok: true, inserted: 0, duplicates: 100 });
    store.close();
    const after = hourlyAgainstRaw(path);
    expect(after.hourly).toEqual(after.raw);
    expect(after.hourlyModels).toEqual(after.rawModels);
    expect(after.hourlyTools).toEqual(after.rawTools);
  });

  test("a database purged before the migration: hours before the cut-off are not used", () => {
    const path = join(tempDir(), "v1.db");
    copyFileSync(V1_FIXTURE, path);
    // Purge with the schema-1 rules: rows before 2026-10-30 go, with their watermark.
    const raw = new Database(path);
    const cutoff = Date.UTC(2026, 9, 30);
    raw.query("DELETE FROM executions WHERE created_at < ?").run(cutoff);
    raw.query("INSERT INTO tally_meta (key, value) VALUES ('purged_before:executions', ?)").run(cutoff);
    raw.close();
    openSqliteStore({ path, retentionDays: 0 }).close();
    expect(hourlyAgainstRaw(path).meta?.value).toBe(cutoff);

    // A range whose start lies before the cut-off, not on a whole day: its first hours can only
    // come from raw rows, which are gone. The report says so instead of guessing.
    const reader = openSqliteStore({ path, readonly: true });
    const partial = reader.report({ kind: "usage", groupBy: [], range: { since: Date.UTC(2026, 9, 25, 13, 0), until: Date.UTC(2026, 10, 5) } });
    expect(partial.rawRowsPurgedBefore).toBe(new Date(cutoff).toISOString());
    // A range of whole days reads only the daily rollups, which are complete.
    const whole = reader.report({ kind: "usage", groupBy: [], range: { since: Date.UTC(2026, 9, 25), until: Date.UTC(2026, 10, 5) } });
    expect(whole.rawRowsPurgedBefore).toBeNull();
    // And after the cut-off everything is complete.
    expect(reader.report({ kind: "usage", groupBy: ["day"], range: { since: cutoff + 5_400_000 } }).rawRowsPurgedBefore).toBeNull();
    reader.close();
  });
});
