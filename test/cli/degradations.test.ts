/**
 * `tally degradations`: degraded runs, retries, skipped queries and how they degraded, in
 * proportion to all runs, with cache hit rates; numbers worked out by hand from known-db.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeTempDirs } from "../support/temp-dir.ts";
import type { CacheRow, DegradationRow } from "../../src/report/spec.ts";
import { tableRow, tally, tallyJson } from "./harness.ts";
import { knownDb } from "./known-db.ts";

/** A row as the JSON carries it: the library's row, groups looked up by any name. */
type Row = Omit<DegradationRow, "group"> & { group: Record<string, string> };
interface Degradations {
  kind: string;
  groupBy: string[];
  range: { since: string | null; until: string | null; timeZone: string };
  rows: Row[];
  totals: Row;
  totalRuns: number;
  caches: CacheRow[];
}

let db: string;
const degradations = (...args: string[]) => tallyJson<Degradations>(["degradations", "--db", db, ...args]);

beforeAll(() => {
  db = knownDb();
});
afterAll(removeTempDirs);

describe("JSON", () => {
  test("the documented shape: by repo (the default), totals, runs in range, caches", async () => {
    const r = await degradations();
    expect(Object.keys(r).sort()).toEqual(["caches", "groupBy", "kind", "range", "rows", "totalRuns", "totals"]);
    expect(r.kind).toBe("degradations");
    expect(r.groupBy).toEqual(["repo"]);
    expect(r.range).toEqual({ since: null, until: null, timeZone: "UTC" });
    expect(r.rows).toEqual([
      { group: { repo: "acme/api" }, degradedRuns: 3, retryAttempts: 6, skippedQueries: 3, byDegradation: { partial: 2, retried: 1 } },
      { group: { repo: "acme/web" }, degradedRuns: 2, retryAttempts: 5, skippedQueries: 11, byDegradation: { skipped: 2 } },
    ]);
    expect(r.totals).toEqual({ group: {}, degradedRuns: 5, retryAttempts: 11, skippedQueries: 14, byDegradation: { partial: 2, retried: 1, skipped: 2 } });
    expect(r.totalRuns).toBe(10);
    expect(r.caches).toEqual([
      { cache: "files", hits: 1, misses: 2, errors: 0, hitRate: 1 / 3 },
      { cache: "search", hits: 3, misses: 2, errors: 1, hitRate: 0.6 },
      { cache: "tokens", hits: 0, misses: 0, errors: 1, hitRate: null },
    ]);
  });

  test("--since 7d", async () => {
    const r = await degradations("--since", "7d");
    expect(r.rows.map((row) => [row.group.repo, row.degradedRuns, row.retryAttempts, row.skippedQueries, row.byDegradation])).toEqual([
      ["acme/api", 3, 6, 3, { partial: 2, retried: 1 }],
      ["acme/web", 1, 5, 4, { skipped: 1 }],
    ]);
    expect([r.totals.degradedRuns, r.totalRuns]).toEqual([4, 7]);
    expect(r.caches.find((c) => c.cache === "search")).toEqual({ cache: "search", hits: 3, misses: 1, errors: 1, hitRate: 0.75 });
  });

  test("--exact (raw rows only) answers as the daily rollups do, for whole and partial days", async () => {
    for (const args of [[], ["--since", "7d"], ["--by", "day,resource", "--tz", "Asia/Kolkata"], ["--since", "2026-11-20T09:30:00Z", "--by", "hour"]]) {
      expect(await degradations(...args, "--exact")).toEqual(await degradations(...args));
    }
  });

  test("--by resource", async () => {
    const r = await degradations("--by", "resource");
    expect(r.rows.map((row) => [row.group.resource, row.degradedRuns, row.retryAttempts, row.skippedQueries, row.byDegradation])).toEqual([
      ["core", 1, 0, 7, { skipped: 1 }],
      ["graphql", 1, 1, 0, { retried: 1 }],
      ["search", 3, 10, 7, { partial: 2, skipped: 1 }],
    ]);
  });

  test("--by day,resource", async () => {
    const r = await degradations("--by", "day,resource");
    expect(r.rows.map((row) => [row.group.day, row.group.resource, row.degradedRuns])).toEqual([
      ["2026-11-02", "core", 1],
      ["2026-11-16", "search", 1],
      ["2026-11-21", "graphql", 1],
      ["2026-11-21", "search", 1],
      ["2026-11-22", "search", 1],
    ]);
    expect(r.totals.degradedRuns).toBe(5);
  });

  test("--repo: degraded runs, runs in range and cache lookups of that repo only", async () => {
    const r = await degradations("--repo", "acme/api");
    expect(r.rows.map((row) => row.group.repo)).toEqual(["acme/api"]);
    expect([r.totals.degradedRuns, r.totalRuns]).toEqual([3, 5]);
    expect(r.caches).toEqual([{ cache: "search", hits: 3, misses: 2, errors: 1, hitRate: 0.6 }]);
  });
});

describe("table and CSV", () => {
  test("the table, 'N of M runs degraded' and the cache table", async () => {
    const run = await tally(["degradations", "--db", db, "--since", "7d"]);
    expect(run.code).toBe(0);
    const [degraded, cache] = run.stdout.split("\n\n4 of 7 runs degraded (57.1%).\n\n");
    expect(degraded!.split("\n")[0]).toBe("2026-11-15 15:30 UTC → now (UTC)");
    expect(degraded!.split("\n")[1]).toMatch(/^Repo +Degraded runs +Retries +Skipped queries +How$/);
    expect(tableRow(degraded!, "acme/api")).toEqual(["acme/api", "3", "6", "3", "partial 2, retried 1"]);
    expect(tableRow(degraded!, "acme/web")).toEqual(["acme/web", "1", "5", "4", "skipped 1"]);
    expect(tableRow(degraded!, "Total").slice(0, 4)).toEqual(["Total", "4", "11", "7"]);
    expect(cache!.split("\n")[0]).toMatch(/^Cache +Hits +Misses +Errors +Hit rate$/);
    expect(tableRow(cache!, "files")).toEqual(["files", "1", "2", "0", "33.3%"]);
    expect(tableRow(cache!, "search")).toEqual(["search", "3", "1", "1", "75.0%"]);
    expect(tableRow(cache!, "tokens")).toEqual(["tokens", "0", "0", "1", "-"]);
  });

  test("CSV: the how-degraded list is one quoted field", async () => {
    const run = await tally(["degradations", "--db", db, "--format", "csv"]);
    expect(run.stdout).toBe(
      [
        "repo,degraded_runs,retry_attempts,skipped_queries,by_degradation",
        'acme/api,3,6,3,"partial 2, retried 1"',
        "acme/web,2,5,11,skipped 2",
        'TOTAL,5,11,14,"partial 2, skipped 2, retried 1"',
        "",
      ].join("\r\n"),
    );
  });

  test("empty: says so with the runs in range, and no cache table without lookups", async () => {
    const run = await tally(["degradations", "--db", db, "--since", "2026-11-23"]);
    expect(run).toEqual({ code: 0, stdout: "2026-11-23 00:00 UTC → now (UTC)\nNo degraded runs in this range (0 runs).\n", stderr: "" });
    const json = await degradations("--since", "2026-11-23");
    expect([json.rows, json.totals.degradedRuns, json.totalRuns, json.caches]).toEqual([[], 0, 0, []]);
  });
});
