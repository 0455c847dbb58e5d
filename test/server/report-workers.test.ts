/**
 * Reports on worker threads (`tally serve` on a SQLite file): the same answers as the store's
 * own thread for every kind of report, many at once; a spec's mistakes still raised where
 * they were; a server given the workers answers its read API from them; closing answers
 * what is waiting with an error, never a hang.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { TallyConfigError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/logger.ts";
import type { ReportSpec, ToolsReportSpec } from "../../src/report/spec.ts";
import { createServerApp } from "../../src/server/app.ts";
import { startReportWorkers, type ReportWorkers } from "../../src/store/sqlite/report-workers.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { NOW } from "../cli/harness.ts";
import { cacheEvent, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { knownDb } from "../cli/known-db.ts";
import { tempDir } from "../support/temp-dir.ts";

const open: { stores: SqliteStore[]; workers: ReportWorkers[] } = { stores: [], workers: [] };
afterEach(() => {
  for (const w of open.workers.splice(0)) w.close();
  for (const s of open.stores.splice(0)) s.close();
});

/** The known database plus tool calls, degraded runs and cache lookups, with its store and two report workers. */
function setUp(): { store: SqliteStore; workers: ReportWorkers; path: string } {
  const path = join(tempDir(), "workers.db");
  copyFileSync(knownDb(), path);
  const store = openSqliteStore({ path, retentionDays: 0, now: () => NOW });
  const at = Date.parse("2026-11-21T10:00:00Z");
  const more = Array.from({ length: 30 }, (_, i) => [
    toolCall({ id: `t${i}`, createdAt: at + i * 3_600_000, toolName: i % 2 ? "search" : "read", sessionId: `s${i % 4}` }),
    rateLimitEvent({ id: `l${i}`, createdAt: at + i * 3_600_000, deliveryId: `d${i}`, resource: i % 3 ? "search" : "core" }),
    cacheEvent({ id: `c${i}`, createdAt: at + i * 3_600_000, outcome: i % 4 ? "hit" : "miss" }),
  ]).flat();
  expect(store.write(more).ok).toBe(true);
  const workers = startReportWorkers({ path, driver: store.driverName, workers: 2, logger: silentLogger });
  if (workers === null) throw new Error("no worker threads here");
  open.stores.push(store);
  open.workers.push(workers);
  return { store, workers, path };
}

const TOOLS: ToolsReportSpec = { kind: "tools", groupBy: ["tool"], range: {}, timeZone: "UTC" };
const SPECS: ReportSpec[] = [
  { kind: "usage", groupBy: ["day"], range: {}, timeZone: "UTC" },
  { kind: "usage", groupBy: ["repo", "model"], range: { since: NOW - 7 * 86_400_000, until: NOW }, timeZone: "Asia/Kolkata" },
  { kind: "usage", groupBy: ["hour"], range: { since: NOW - 86_400_000, until: NOW }, timeZone: "America/Los_Angeles", exact: true },
  TOOLS,
  { kind: "degradations", groupBy: ["day", "resource"], range: {}, timeZone: "Europe/Berlin" },
];

describe("report workers", () => {
  test("answer every kind of report as the store's own thread does, many at once", async () => {
    const { store, workers } = setUp();
    const answers = await Promise.all([...SPECS, ...SPECS, ...SPECS].map((spec) => workers.report(spec)));
    answers.forEach((answer, i) => expect(answer).toEqual(store.report(SPECS[i % SPECS.length]!)));
    expect(workers.answered).toBe(3 * SPECS.length);
    // They read what the writer commits afterwards (their own connections, WAL snapshots per report).
    const before = await workers.report(TOOLS);
    expect(store.write([toolCall({ id: "late", createdAt: NOW - 1000, toolName: "search", sessionId: "s9" })]).ok).toBe(true);
    const after = await workers.report(TOOLS);
    expect(after.totals.calls).toBe(before.totals.calls + 1);
  });

  test("a spec's mistakes are raised before any thread is asked, as TallyConfigError", () => {
    const { workers } = setUp();
    expect(() => workers.report({ kind: "usage", groupBy: ["day"], range: {}, timeZone: "Mars/Olympus" })).toThrow(TallyConfigError);
    expect(() => workers.report({ kind: "usage", groupBy: ["repo"], range: {}, sort: "bogus" as "cost" })).toThrow(/cannot sort by "bogus"/);
    expect(workers.answered).toBe(0);
  });

  test("a server given the workers answers its read API from them: the same JSON as without", async () => {
    const { store, workers } = setUp();
    const withWorkers = createServerApp({ store, reports: workers, now: () => NOW });
    const without = createServerApp({ store, now: () => NOW });
    for (const path of ["/api/v1/reports/usage?by=repo&since=30d", "/api/v1/reports/tools?by=tool,server", "/api/v1/reports/degradations?by=day&tz=Asia/Kolkata"]) {
      const a = await withWorkers.app.request(path);
      const b = await without.app.request(path);
      expect([a.status, await a.json()]).toEqual([200, await b.json()]);
    }
    expect(workers.answered).toBe(3);
    expect((await withWorkers.app.request("/api/v1/reports/usage?tz=Nowhere/Else")).status).toBe(400);
    expect(() => createServerApp({ store, reports: {} as never })).toThrow(TallyConfigError);
  });

  test("closed: waiting and later reports fail with an error, never hang; a file that cannot be read fails each report", async () => {
    const { workers } = setUp();
    const waiting = Array.from({ length: 6 }, () => workers.report(SPECS[0]!).then(() => "answered", (error: Error) => error.message));
    workers.close();
    for (const outcome of await Promise.all(waiting)) expect(["answered", "report workers are closed"]).toContain(outcome);
    await expect(workers.report(SPECS[0]!)).rejects.toThrow("report workers are closed");

    const missing = startReportWorkers({ path: join(tempDir(), "no-such-dir", "x.db"), driver: "bun:sqlite", workers: 1, logger: silentLogger })!;
    open.workers.push(missing);
    await expect(missing.report(SPECS[0]!)).rejects.toThrow();
    await expect(missing.report(SPECS[0]!)).rejects.toThrow(); // and the next one too: the worker lives on
  });
});
