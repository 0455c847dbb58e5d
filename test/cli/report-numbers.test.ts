/**
 * `tally report`: the numbers, worked out by hand from the ten runs in known-db.ts, for every
 * --by dimension, time range, filter, sort and limit; from the rollups and from raw rows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import type { UsageRow } from "../../src/report/spec.ts";
import { expectWithinBucketError, tally, tallyJson } from "./harness.ts";
import { knownDb } from "./known-db.ts";

/** A row as the JSON carries it: the library's row, groups looked up by any name. */
type Row = Omit<UsageRow, "group"> & { group: Record<string, string> };
interface Usage {
  kind: string;
  groupBy: string[];
  range: { since: string | null; until: string | null; timeZone: string };
  source: "rollups" | "raw";
  rows: Row[];
  totals: Row;
  unpricedModels: string[];
}

/** [runs, successes, failures, errors, input, output, cache read, cache write, cost, unpriced runs, mean ms] */
type Sums = [number, number, number, number, number, number, number, number, number, number, number | null];
const sums = (r: Row): Sums => [
  r.runs, r.successes, r.failures, r.errors, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens,
  r.costUsd, r.unpricedRuns, r.meanDurationMs === null ? null : Math.round(r.meanDurationMs * 100) / 100,
];
const label = (r: Row, by: string[]) => by.map((d) => r.group[d]).join(" | ");
/** Rows as label → sums, in output order. */
const table = (report: Usage): [string, Sums][] => report.rows.map((r) => [label(r, report.groupBy), sums(r)]);

const ALL: Sums = [10, 6, 2, 2, 16600, 2960, 3600, 650, 4.71875, 2, 16500];

let db: string;
const report = (...args: string[]) => tallyJson<Usage>(["report", "--db", db, ...args]);

beforeAll(() => {
  db = knownDb();
});
afterAll(removeTempDirs);

describe("--by: every dimension, from the rollups, totals always the whole range", () => {
  test("day (the default)", async () => {
    const r = await report();
    expect(r.groupBy).toEqual(["day"]);
    expect(r.source).toBe("rollups");
    expect(table(r)).toEqual([
      ["2026-10-30", [1, 1, 0, 0, 1000, 200, 0, 0, 0.5, 0, 10000]],
      ["2026-11-02", [1, 1, 0, 0, 2000, 300, 500, 100, 0.25, 0, 20000]],
      ["2026-11-08", [1, 0, 1, 0, 3000, 400, 1000, 0, 1, 0, 30000]],
      // 00:00:00.000 and 23:59:59.999 are both that day.
      ["2026-11-16", [2, 1, 0, 1, 9000, 1100, 0, 200, 0.125, 1, 45000]],
      ["2026-11-21", [1, 1, 0, 0, 600, 700, 2000, 300, 0.75, 0, 5000]],
      ["2026-11-22", [4, 2, 1, 1, 1000, 260, 100, 50, 2.09375, 1, 2500]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
    expect(r.totals.group).toEqual({});
    expect(r.unpricedModels).toEqual(["local-llama", "mystery-model-1"]);
  });

  test("week: ISO weeks, labelled by their Monday (Sunday 11-08 belongs to the week of 11-02)", async () => {
    const r = await report("--by", "week");
    expect(table(r)).toEqual([
      ["2026-10-26", [1, 1, 0, 0, 1000, 200, 0, 0, 0.5, 0, 10000]],
      ["2026-11-02", [2, 1, 1, 0, 5000, 700, 1500, 100, 1.25, 0, 25000]],
      ["2026-11-16", [7, 4, 1, 2, 10600, 2060, 2100, 550, 2.96875, 2, 15000]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("month", async () => {
    const r = await report("--by", "month");
    expect(table(r)).toEqual([
      ["2026-10", [1, 1, 0, 0, 1000, 200, 0, 0, 0.5, 0, 10000]],
      ["2026-11", [9, 5, 2, 2, 15600, 2760, 3600, 650, 4.21875, 2, 17222.22]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("repo", async () => {
    const r = await report("--by", "repo");
    expect(table(r)).toEqual([
      ["acme/api", [5, 3, 1, 1, 4100, 1330, 2600, 450, 3.5625, 0, 8000]],
      ["acme/web", [3, 2, 1, 0, 7200, 960, 1000, 200, 1.15625, 0, 24000]],
      ["other/tool", [2, 1, 0, 1, 5300, 670, 0, 0, 0, 2, 26500]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("model", async () => {
    const r = await report("--by", "model");
    expect(table(r)).toEqual([
      ["claude-opus-4-1", [2, 0, 1, 1, 3400, 480, 1100, 50, 3, 0, 17000]],
      ["claude-sonnet-4-5", [4, 3, 1, 0, 3700, 1250, 2500, 400, 1.5625, 0, 9000]],
      ["gpt-4o", [2, 2, 0, 0, 4200, 560, 0, 200, 0.15625, 0, 21000]],
      ["local-llama", [1, 1, 0, 0, 300, 70, 0, 0, 0, 1, 3000]],
      ["mystery-model-1", [1, 0, 0, 1, 5000, 600, 0, 0, 0, 1, 50000]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("provider", async () => {
    const r = await report("--by", "provider");
    expect(table(r)).toEqual([
      ["acme-llm", [1, 0, 0, 1, 5000, 600, 0, 0, 0, 1, 50000]],
      ["anthropic", [6, 3, 2, 1, 7100, 1730, 3600, 450, 4.5625, 0, 11666.67]],
      ["ollama", [1, 1, 0, 0, 300, 70, 0, 0, 0, 1, 3000]],
      ["openai", [2, 2, 0, 0, 4200, 560, 0, 200, 0.15625, 0, 21000]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("event", async () => {
    const r = await report("--by", "event");
    expect(table(r)).toEqual([
      ["issue_comment.created", [3, 1, 2, 0, 3400, 520, 1000, 0, 1.0625, 1, 11333.33]],
      ["pull_request.opened", [5, 3, 0, 2, 11000, 2080, 2100, 550, 3.375, 1, 21800]],
      ["pull_request.synchronize", [2, 2, 0, 0, 2200, 360, 500, 100, 0.28125, 0, 11000]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("conclusion", async () => {
    const r = await report("--by", "conclusion");
    expect(table(r)).toEqual([
      ["error", [2, 0, 0, 2, 5400, 680, 100, 50, 2, 1, 27000]],
      ["failure", [2, 0, 2, 0, 3100, 450, 1000, 0, 1.0625, 0, 15500]],
      ["success", [6, 6, 0, 0, 8100, 1830, 2500, 600, 1.65625, 1, 13333.33]],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("repo,model: one row per pair that has runs", async () => {
    const r = await report("--by", "repo,model");
    expect(r.groupBy).toEqual(["repo", "model"]);
    expect(r.rows.map((row) => [label(row, r.groupBy), row.runs, row.costUsd, row.unpricedRuns])).toEqual([
      ["acme/api | claude-opus-4-1", 1, 2, 0],
      ["acme/api | claude-sonnet-4-5", 4, 1.5625, 0],
      ["acme/web | claude-opus-4-1", 1, 1, 0],
      ["acme/web | gpt-4o", 2, 0.15625, 0],
      ["other/tool | local-llama", 1, 0, 1],
      ["other/tool | mystery-model-1", 1, 0, 1],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("week and conclusion given as two repeated --by flags", async () => {
    const r = await report("--by", "week", "--by", "conclusion");
    expect(r.rows.map((row) => [label(row, r.groupBy), row.runs, row.successes, row.failures, row.errors])).toEqual([
      ["2026-10-26 | success", 1, 1, 0, 0],
      ["2026-11-02 | failure", 1, 0, 1, 0],
      ["2026-11-02 | success", 1, 1, 0, 0],
      ["2026-11-16 | error", 2, 0, 0, 2],
      ["2026-11-16 | failure", 1, 0, 1, 0],
      ["2026-11-16 | success", 4, 4, 0, 0],
    ]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("month,provider", async () => {
    const r = await report("--by", "month,provider");
    expect(r.rows.map((row) => [label(row, r.groupBy), row.runs, row.costUsd])).toEqual([
      ["2026-10 | anthropic", 1, 0.5],
      ["2026-11 | acme-llm", 1, 0],
      ["2026-11 | anthropic", 5, 4.0625],
      ["2026-11 | ollama", 1, 0],
      ["2026-11 | openai", 2, 0.15625],
    ]);
  });
});

describe("percentiles", () => {
  test("--exact: nearest-rank p50 and p95 of the raw durations", async () => {
    const r = await report("--by", "repo", "--exact");
    expect(r.source).toBe("raw");
    expect(r.rows.map((row) => [row.group.repo, row.p50DurationMs, row.p95DurationMs])).toEqual([
      ["acme/api", 5000, 20000],
      ["acme/web", 30000, 40000],
      ["other/tool", 3000, 50000],
    ]);
    expect([r.totals.p50DurationMs, r.totals.p95DurationMs]).toEqual([5000, 50000]);
  });

  test("from the rollups: within ±4.8 % of the exact values, per row and in the totals", async () => {
    const exact: Record<string, [number, number]> = {
      "2026-10-30": [10000, 10000],
      "2026-11-02": [20000, 20000],
      "2026-11-08": [30000, 30000],
      "2026-11-16": [40000, 50000],
      "2026-11-21": [5000, 5000],
      "2026-11-22": [2000, 4000],
    };
    const r = await report("--by", "day");
    for (const row of r.rows) {
      expectWithinBucketError(row.p50DurationMs, exact[row.group.day!]![0]);
      expectWithinBucketError(row.p95DurationMs, exact[row.group.day!]![1]);
    }
    expectWithinBucketError(r.totals.p50DurationMs, 5000);
    expectWithinBucketError(r.totals.p95DurationMs, 50000);
  });

  test("a range read from raw rows only (12h up to now, hours not rolled up yet): exact percentiles", async () => {
    // 12h before 15:30 is 03:30: runs 8, 9 and 10 (2000, 3000 and 4000 ms). (An open end would
    // close at the end of the data's last day, 20.5 hours: that day less 3.5 hours, from the rollups.)
    const r = await report("--since", "12h", "--until", "2026-11-22T15:30:00Z");
    expect(r.source).toBe("raw");
    expect([r.totals.p50DurationMs, r.totals.p95DurationMs]).toEqual([3000, 4000]);
  });
});

describe("--since / --until", () => {
  test("7d: the last 7 × 24 hours, whole days from the rollups and the edges from raw rows", async () => {
    const r = await report("--since", "7d");
    expect(r.range).toEqual({ since: "2026-11-15T15:30:00.000Z", until: null, timeZone: "UTC" });
    expect(r.source).toBe("rollups");
    expect(sums(r.totals)).toEqual([7, 4, 1, 2, 10600, 2060, 2100, 550, 2.96875, 2, 15000]);
    expectWithinBucketError(r.totals.p50DurationMs, 4000);
    expectWithinBucketError(r.totals.p95DurationMs, 50000);
    expect(r.unpricedModels).toEqual(["local-llama", "mystery-model-1"]);
  });

  test("1d is the last 24 hours; today starts at midnight", async () => {
    const r = await report("--since", "1d");
    expect(r.range.since).toBe("2026-11-21T15:30:00.000Z");
    expect(sums(r.totals)).toEqual([4, 2, 1, 1, 1000, 260, 100, 50, 2.09375, 1, 2500]);
    const today = await report("--since", "today");
    expect(today.range.since).toBe("2026-11-22T00:00:00.000Z");
    expect(sums(today.totals)).toEqual(sums(r.totals));
  });

  test("1d at 00:30 is still 24 hours (it was thirty minutes when 1d meant 'today')", async () => {
    const r = await tallyJson<Usage>(["report", "--db", db, "--since", "1d"], { now: Date.parse("2026-11-22T00:30:00Z") });
    expect(r.range.since).toBe("2026-11-21T00:30:00.000Z");
    // Runs 6 to 10 (11-21 12:00 onwards; an open end also keeps rows stamped after "now").
    // When 1d meant "today" this was 11-22 00:00 onwards: runs 7 to 10.
    expect(r.totals.runs).toBe(5);
  });

  test("yesterday, and --until yesterday (the whole day included)", async () => {
    const r = await report("--since", "yesterday", "--until", "yesterday");
    expect(r.range).toEqual({ since: "2026-11-21T00:00:00.000Z", until: "2026-11-22T00:00:00.000Z", timeZone: "UTC" });
    expect(r.totals.runs).toBe(1);
  });

  test("12h: exactly twelve hours before now, from raw rows; only the unpriced model in range is named", async () => {
    const r = await report("--since", "12h");
    expect(r.range).toEqual({ since: "2026-11-22T03:30:00.000Z", until: null, timeZone: "UTC" });
    expect(sums(r.totals)).toEqual([3, 2, 0, 1, 900, 210, 100, 50, 2.03125, 1, 3000]);
    expect(r.unpricedModels).toEqual(["local-llama"]);
  });

  test("90m: a run exactly at the start of the range is in it", async () => {
    const r = await report("--since", "90m");
    expect(r.range.since).toBe("2026-11-22T14:00:00.000Z");
    expect(r.totals.runs).toBe(2);
  });

  test("dates: --until DATE includes that whole day", async () => {
    const r = await report("--since", "2026-11-02", "--until", "2026-11-16");
    expect(r.range).toEqual({ since: "2026-11-02T00:00:00.000Z", until: "2026-11-17T00:00:00.000Z", timeZone: "UTC" });
    expect(r.source).toBe("rollups");
    expect(table(r).map(([day, s]) => [day, s[0]])).toEqual([
      ["2026-11-02", 1],
      ["2026-11-08", 1],
      ["2026-11-16", 2],
    ]);
    expect(r.totals.inputTokens).toBe(14000);
    expect(r.totals.costUsd).toBe(1.375);
    expect(r.unpricedModels).toEqual(["mystery-model-1"]);
  });

  test("--until alone: everything up to the end of that day", async () => {
    expect((await report("--until", "2026-11-15")).totals.runs).toBe(3);
    expect((await report("--until", "2026-11-16")).totals.runs).toBe(5);
  });

  test("ISO times: half-open [since, until); whole days from the rollups, the partial day from raw rows", async () => {
    const r = await report("--since", "2026-11-16T00:00:00Z", "--until", "2026-11-21T12:00:00Z");
    expect(r.source).toBe("rollups");
    // Run 4 at exactly 11-16 00:00 is in; run 6 at exactly 11-21 12:00 is out.
    expect(r.range).toEqual({ since: "2026-11-16T00:00:00.000Z", until: "2026-11-21T12:00:00.000Z", timeZone: "UTC" });
    expect(sums(r.totals)).toEqual([2, 1, 0, 1, 9000, 1100, 0, 200, 0.125, 1, 45000]);
  });

  test("ISO times with an offset", async () => {
    const r = await report("--since", "2026-11-22T10:00:00+01:00");
    expect(r.range.since).toBe("2026-11-22T09:00:00.000Z");
    expect(r.totals.runs).toBe(3);
    expect(r.totals.costUsd).toBe(2.03125);
  });
});

describe("--tz and --by hour", () => {
  test("days begin at the zone's midnight: run 5 (11-16 23:59:59.999 UTC) is on 11-17 in Kolkata, same sums as --exact", async () => {
    const kolkata = await report("--by", "day", "--tz", "Asia/Kolkata", "--since", "2026-11-16", "--until", "2026-11-17");
    expect(kolkata.range).toEqual({ since: "2026-11-15T18:30:00.000Z", until: "2026-11-17T18:30:00.000Z", timeZone: "Asia/Kolkata" });
    expect(table(kolkata).map(([day, s]) => [day, s[0]])).toEqual([["2026-11-16", 1], ["2026-11-17", 1]]);
    const utc = await report("--by", "day", "--tz", "UTC", "--since", "2026-11-16", "--until", "2026-11-17");
    expect(table(utc).map(([day, s]) => [day, s[0]])).toEqual([["2026-11-16", 2]]);
    const exact = await report("--by", "day", "--tz", "Asia/Kolkata", "--since", "2026-11-16", "--until", "2026-11-17", "--exact");
    expect(table(kolkata)).toEqual(table(exact));
  });

  test("TZ sets the zone when --tz is not given; --tz wins; the machine's zone otherwise", async () => {
    const byEnv = await tallyJson<Usage>(["report", "--db", db, "--since", "today"], { env: { TZ: "America/Los_Angeles" } });
    expect(byEnv.range).toEqual({ since: "2026-11-22T08:00:00.000Z", until: null, timeZone: "America/Los_Angeles" });
    const byFlag = await tallyJson<Usage>(["report", "--db", db, "--since", "today", "--tz", "Asia/Kathmandu"], { env: { TZ: "America/Los_Angeles" } });
    expect(byFlag.range.timeZone).toBe("Asia/Kathmandu");
    const byMachine = await tallyJson<Usage>(["report", "--db", db, "--since", "today"], { timeZone: "Asia/Kolkata" });
    expect(byMachine.range).toEqual({ since: "2026-11-21T18:30:00.000Z", until: null, timeZone: "Asia/Kolkata" });
    // A TZ that is no IANA name (a POSIX rule) falls back to the machine's zone rather than failing.
    const posix = await tallyJson<Usage>(["report", "--db", db], { env: { TZ: "EST5EDT,M3.2.0,M11.1.0" }, timeZone: "UTC" });
    expect(posix.range.timeZone).toBe("UTC");
  });

  test("--by hour: the zone's hours, labelled with their offset", async () => {
    const utc = await report("--by", "hour", "--since", "today");
    expect(table(utc).map(([hour, s]) => [hour, s[0]])).toEqual([
      ["2026-11-22T02:00Z", 1], ["2026-11-22T09:00Z", 1], ["2026-11-22T14:00Z", 1], ["2026-11-22T15:00Z", 1],
    ]);
    const kolkata = await report("--by", "hour", "--since", "today", "--tz", "Asia/Kolkata");
    // Kolkata's today began at 11-21 18:30 UTC: run 6 (11-21 12:00 UTC) is before it.
    expect(table(kolkata).map(([hour]) => hour)).toEqual(["2026-11-22T07:00+05:30", "2026-11-22T14:00+05:30", "2026-11-22T19:00+05:30", "2026-11-22T20:00+05:30"]);
  });

  test("the table says what it covers, in the zone", async () => {
    const run = await tally(["report", "--db", db, "--since", "7d", "--tz", "Asia/Kolkata"]);
    expect(run.stdout.split("\n")[0]).toBe("2026-11-15 21:00 +05:30 → now (Asia/Kolkata)");
  });
});

describe("a range that reaches past the last purge of raw rows", () => {
  test("says so (rawRowsPurgedBefore, and a note under the table) when a partial hour had to come from purged rows", async () => {
    const path = join(tempDir(), "purged.db");
    copyFileSync(db, path);
    // Raw rows older than 2026-11-10 go (runs 1, 2 and 3); the daily rollups stay.
    const store = openSqliteStore({ path, retentionDays: 0, now: () => Date.parse("2026-11-20T00:00:00Z") });
    expect(store.purgeOlderThan(10)).toBeGreaterThanOrEqual(3);
    store.close();
    // A partial quarter hour (12:37 to 12:45) can only come from raw rows, which are gone.
    const partial = await tallyJson<Usage & { rawRowsPurgedBefore: string | null }>(["report", "--db", path, "--since", "2026-11-01T12:37:00Z"]);
    expect(partial.rawRowsPurgedBefore).toBe("2026-11-10T00:00:00.000Z");
    // Whole days need no raw rows: complete, and equal to the report before the purge.
    const whole = await tallyJson<Usage & { rawRowsPurgedBefore: string | null }>(["report", "--db", path, "--since", "2026-11-02"]);
    expect(whole.rawRowsPurgedBefore).toBeNull();
    expect(sums(whole.totals)).toEqual(sums((await report("--since", "2026-11-02")).totals));
    const table = await tally(["report", "--db", path, "--since", "2026-11-01T12:37:00Z"]);
    expect(table.stdout).toContain("\n! Raw rows before 2026-11-10T00:00:00.000Z were purged;");
  });
});

describe("--repo / --model / --event", () => {
  test("a glob", async () => {
    const r = await report("--repo", "acme/*");
    expect(sums(r.totals)).toEqual([8, 5, 2, 1, 11300, 2290, 3600, 650, 4.71875, 0, 14000]);
    expect(r.unpricedModels).toEqual([]);
  });

  test("repeated: any of them", async () => {
    const r = await report("--repo", "acme/web", "--repo", "other/tool", "--by", "repo");
    expect(r.rows.map((row) => [row.group.repo, row.runs])).toEqual([["acme/web", 3], ["other/tool", 2]]);
    expect(r.totals.runs).toBe(5);
    expect(r.totals.costUsd).toBe(1.15625);
  });

  test("model globs with * and ?", async () => {
    expect((await report("--model", "claude-*")).totals.costUsd).toBe(4.5625);
    expect((await report("--model", "claude-*")).totals.runs).toBe(6);
    expect((await report("--model", "gpt-4?")).totals.runs).toBe(2);
  });

  test("a character class", async () => {
    expect((await report("--repo", "acme/[w]eb")).totals.runs).toBe(3);
  });

  test("event glob", async () => {
    const r = await report("--event", "pull_request.*");
    expect(r.totals.runs).toBe(7);
    expect(r.totals.costUsd).toBe(3.65625);
  });

  test("filters combine with AND", async () => {
    const r = await report("--repo", "acme/*", "--event", "issue_comment.*");
    expect(r.totals.runs).toBe(2);
    expect(r.totals.costUsd).toBe(1.0625);
  });

  test("globs are case-sensitive", async () => {
    expect((await report("--repo", "ACME/*")).rows).toEqual([]);
  });

  test("an unpriced model filtered to is the only one named", async () => {
    const r = await report("--model", "mystery-*");
    expect(r.totals.unpricedRuns).toBe(1);
    expect(r.unpricedModels).toEqual(["mystery-model-1"]);
  });

  test("the raw path filters the same way", async () => {
    const r = await report("--repo", "acme/*", "--model", "claude-*", "--exact");
    expect(r.source).toBe("raw");
    expect(sums(r.totals)).toEqual([6, 3, 2, 1, 7100, 1730, 3600, 450, 4.5625, 0, 11666.67]);
  });
});

describe("--sort and --limit", () => {
  test("--sort cost --limit 2: the two costliest, totals still over all rows", async () => {
    const r = await report("--by", "repo", "--sort", "cost", "--limit", "2");
    expect(r.rows.map((row) => [row.group.repo, row.costUsd])).toEqual([["acme/api", 3.5625], ["acme/web", 1.15625]]);
    expect(sums(r.totals)).toEqual(ALL);
  });

  test("--sort tokens sums all four token kinds", async () => {
    // acme/web 9360, acme/api 8480, other/tool 5970
    const r = await report("--by", "repo", "--sort", "tokens");
    expect(r.rows.map((row) => row.group.repo)).toEqual(["acme/web", "acme/api", "other/tool"]);
  });

  test("--sort duration (mean) and --sort failures (failures + errors)", async () => {
    expect((await report("--by", "repo", "--sort", "duration")).rows.map((row) => row.group.repo)).toEqual(["other/tool", "acme/web", "acme/api"]);
    expect((await report("--by", "repo", "--sort", "failures")).rows.map((row) => row.group.repo)).toEqual(["acme/api", "acme/web", "other/tool"]);
  });

  test("--sort runs keeps group order among ties", async () => {
    const r = await report("--by", "model", "--sort", "runs");
    expect(r.rows.map((row) => row.group.model)).toEqual(["claude-sonnet-4-5", "claude-opus-4-1", "gpt-4o", "local-llama", "mystery-model-1"]);
  });

  test("--sort p95 with --exact", async () => {
    const r = await report("--by", "repo", "--sort", "p95", "--exact");
    expect(r.rows.map((row) => row.group.repo)).toEqual(["other/tool", "acme/web", "acme/api"]);
  });

  test("--limit without --sort keeps the first groups", async () => {
    const r = await report("--limit", "1");
    expect(r.rows.map((row) => row.group.day)).toEqual(["2026-10-30"]);
    expect(r.totals.runs).toBe(10);
  });
});

describe("empty results", () => {
  test("a range with no runs: no rows, zero totals, no percentiles", async () => {
    const r = await report("--since", "2026-11-22T15:20:00Z");
    expect(r.rows).toEqual([]);
    expect(sums(r.totals)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null]);
    expect([r.totals.p50DurationMs, r.totals.p95DurationMs]).toEqual([null, null]);
    expect(r.unpricedModels).toEqual([]);
  });

  test("a range after the last record: nothing is read", async () => {
    const r = await report("--since", "2027-01-01");
    expect(r.source).toBe("raw");
    expect(r.rows).toEqual([]);
    expect(r.totals.runs).toBe(0);
  });

  test("a filter nothing matches", async () => {
    expect((await report("--repo", "nobody/*", "--by", "repo")).rows).toEqual([]);
  });
});

describe("rollups and raw rows agree", () => {
  const ranges: [string, string[]][] = [
    ["all time", []],
    ["7d", ["--since", "7d"]],
    ["dates", ["--since", "2026-11-02", "--until", "2026-11-21"]],
    ["7d, filtered by event", ["--since", "7d", "--event", "pull_request.*"]],
    ["filtered by repo and model", ["--repo", "acme/*", "--model", "claude-*", "--model", "gpt-*"]],
  ];
  for (const [name, range] of ranges) {
    test(`${name}: every dimension has the same sums by --exact and from the rollups`, async () => {
      for (const by of ["day", "week", "month", "repo", "model", "provider", "event", "conclusion", "repo,model,event"]) {
        const rolled = await report("--by", by, ...range);
        const raw = await report("--by", by, ...range, "--exact");
        expect(rolled.source).toBe("rollups");
        expect(raw.source).toBe("raw");
        expect(table(rolled)).toEqual(table(raw));
        expect(sums(rolled.totals)).toEqual(sums(raw.totals));
        expect(rolled.unpricedModels).toEqual(raw.unpricedModels);
        rolled.rows.forEach((row, i) => {
          expectWithinBucketError(row.p50DurationMs, raw.rows[i]!.p50DurationMs!);
          expectWithinBucketError(row.p95DurationMs, raw.rows[i]!.p95DurationMs!);
        });
      }
    });
  }
});
