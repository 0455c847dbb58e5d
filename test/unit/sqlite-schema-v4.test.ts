/**
 * The migration to schema 4 on a schema-3 file written by that code (kept as a fixture:
 * test/fixtures/sqlite/schema-v3.db, ~10 days of runs, tool calls in and out of sessions,
 * degraded runs with a retried delivery, cache lookups): the new daily rollups are built from
 * the raw rows, equal to sums worked out here from those rows; nothing else changes; reports
 * read them and answer as the raw rows do; later writes keep them equal.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { DegradationsReportSpec, ToolsReportSpec } from "../../src/report/spec.ts";
import { utcDay } from "../../src/store/sqlite/utc-day.ts";
import { openSqliteStore, SCHEMA_VERSION } from "../../src/store/sqlite/index.ts";
import { cacheEvent, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

type Row = Record<string, unknown>;
const V3_FIXTURE = join(import.meta.dir, "../fixtures/sqlite/schema-v3.db");
afterAll(removeTempDirs);

/** The three rollups as the raw rows say they should be, summed here in JavaScript. */
function expectedRollups(db: Database) {
  const degradations = new Map<string, number[]>();
  for (const r of db.query("SELECT * FROM rate_limit_events").all() as Row[]) {
    const key = [utcDay(Number(r.created_at)), r.repo, r.resource, r.degradation].join("|");
    const sums = degradations.get(key) ?? [0, 0, 0];
    degradations.set(key, [sums[0]! + 1, sums[1]! + Number(r.retry_attempts), sums[2]! + Number(r.skipped_queries)]);
  }
  const caches = new Map<string, number[]>();
  for (const r of db.query("SELECT * FROM cache_events").all() as Row[]) {
    const key = [utcDay(Number(r.created_at)), r.cache, r.repo].join("|");
    const sums = caches.get(key) ?? [0, 0, 0, 0];
    caches.set(key, [sums[0]! + 1, sums[1]! + (r.outcome === "hit" ? 1 : 0), sums[2]! + (r.outcome === "miss" ? 1 : 0), sums[3]! + (r.outcome === "error" ? 1 : 0)]);
  }
  const sessions = new Set<string>();
  for (const r of db.query("SELECT * FROM tool_calls WHERE session_id IS NOT NULL").all() as Row[]) {
    sessions.add([utcDay(Number(r.created_at)), r.server, r.tool_name, r.session_id].join("|"));
  }
  const sorted = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  return { degradations: sorted(degradations), caches: sorted(caches), sessions: [...sessions].sort() };
}

/** The three rollups as stored. */
function storedRollups(db: Database) {
  const rows = (sql: string) => db.query(sql).all() as Row[];
  return {
    degradations: rows("SELECT * FROM daily_degradations ORDER BY day, repo, resource, degradation").map((r): [string, number[]] => [
      [r.day, r.repo, r.resource, r.degradation].join("|"), [Number(r.runs), Number(r.retry_attempts), Number(r.skipped_queries)],
    ]),
    caches: rows("SELECT * FROM daily_cache_usage ORDER BY day, cache, repo").map((r): [string, number[]] => [
      [r.day, r.cache, r.repo].join("|"), [Number(r.lookups), Number(r.hits), Number(r.misses), Number(r.errors)],
    ]),
    sessions: rows("SELECT * FROM daily_tool_sessions").map((r) => [r.day, r.server, r.tool_name, r.session_id].join("|")).sort(),
  };
}

describe("the migration to schema 4", () => {
  test("a schema-3 file gains daily_degradations, daily_cache_usage and daily_tool_sessions, built from its raw rows; the rest is untouched", () => {
    const path = join(tempDir(), "v3.db");
    copyFileSync(V3_FIXTURE, path);
    const before = new Database(path, { readonly: true });
    expect((before.query("PRAGMA user_version").get() as Row).user_version).toBe(3);
    const expected = expectedRollups(before);
    const untouched = ["daily_usage", "daily_tool_usage", "executions", "rate_limit_events", "tool_calls", "cache_events"].map((t) => before.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all());
    before.close();
    // Enough to mean something: several days, both kinds of degradation, sessions and calls outside them.
    expect(new Set(expected.degradations.map(([k]) => k.slice(0, 10))).size).toBeGreaterThan(5);
    expect(expected.sessions.length).toBeGreaterThan(20);

    const store = openSqliteStore({ path, retentionDays: 0, now: () => Date.UTC(2026, 10, 10) });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    const range = { since: Date.UTC(2026, 9, 29, 5, 30), until: Date.UTC(2026, 10, 6, 17, 45) };
    for (const timeZone of ["UTC", "Asia/Kolkata", "America/Los_Angeles"]) {
      for (const spec of [
        { kind: "degradations", groupBy: ["day", "resource"], range, timeZone },
        { kind: "degradations", groupBy: ["repo"], range: {}, timeZone, filters: { repos: ["acme/*"] } },
      ] satisfies DegradationsReportSpec[]) {
        const rollups = store.report(spec);
        expect(rollups).toEqual(store.report({ ...spec, exact: true }));
        expect(rollups.totals.degradedRuns).toBeGreaterThan(0);
      }
      const tools: ToolsReportSpec = { kind: "tools", groupBy: ["day", "tool"], range, timeZone, percentiles: false };
      const byTool = store.report(tools);
      expect(byTool.rows.map((r) => [r.group, r.calls, r.sessions])).toEqual(store.report({ ...tools, exact: true }).rows.map((r) => [r.group, r.calls, r.sessions]));
      expect(byTool.totals.sessions).toBe(6);
    }
    store.close();

    const after = new Database(path, { readonly: true });
    expect(storedRollups(after)).toEqual(expected);
    ["daily_usage", "daily_tool_usage", "executions", "rate_limit_events", "tool_calls", "cache_events"].forEach((t, i) =>
      expect(after.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()).toEqual(untouched[i]!),
    );
    after.close();
  });

  test("later writes keep the new rollups equal to the raw rows: duplicates, a retried delivery and replays count once", () => {
    const path = join(tempDir(), "v3-writes.db");
    copyFileSync(V3_FIXTURE, path);
    const store = openSqliteStore({ path, retentionDays: 0, now: () => Date.UTC(2026, 10, 10) });
    const at = Date.UTC(2026, 10, 8, 23, 59, 59, 999);
    const batch = [
      rateLimitEvent({ id: "late-1", createdAt: at, deliveryId: "late", repo: "acme/api", resource: "core", retryAttempts: 2, skippedQueries: 1 }),
      rateLimitEvent({ id: "late-2", createdAt: at, deliveryId: "late", repo: "acme/api", resource: "core", retryAttempts: 5 }), // the same delivery retried
      cacheEvent({ id: "c-late", createdAt: at + 1, cache: "diffs", repo: "acme/api", outcome: "miss" }),
      toolCall({ id: "t-late", createdAt: at + 1, server: "github", toolName: "search", sessionId: "s-new" }),
      toolCall({ id: "t-late-2", createdAt: at + 2, server: "github", toolName: "search", sessionId: "s-new" }),
    ];
    for (let replay = 0; replay < 3; replay++) {
      const result = store.write(batch);
      expect(result.ok).toBe(true);
    }
    store.close();
    const db = new Database(path, { readonly: true });
    expect(storedRollups(db)).toEqual(expectedRollups(db));
    expect(db.query("SELECT runs, retry_attempts FROM daily_degradations WHERE day = '2026-11-08' AND resource = 'core'").all()).toEqual([{ runs: 1, retry_attempts: 2 }]);
    expect(db.query("SELECT lookups, misses FROM daily_cache_usage WHERE day = '2026-11-09' AND cache = 'diffs' AND repo = 'acme/api'").all()).toEqual([{ lookups: 1, misses: 1 }]);
    db.close();
  });
});
