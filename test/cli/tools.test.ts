/**
 * `tally tools`: calls, errors, error rate, cancelled, p50/p95 and distinct sessions, by tool,
 * server and day, filtered by globs; numbers worked out by hand from known-db.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeTempDirs } from "../support/temp-dir.ts";
import type { ToolRow as SourceToolRow } from "../../src/report/spec.ts";
import { expectWithinBucketError, tableRow, tally, tallyJson } from "./harness.ts";
import { knownDb } from "./known-db.ts";

/** A row as the JSON carries it: the library's row, groups looked up by any name. */
type ToolRow = Omit<SourceToolRow, "group"> & { group: Record<string, string> };
interface Tools {
  kind: string;
  groupBy: string[];
  range: { since: string | null; until: string | null; timeZone: string };
  rows: ToolRow[];
  totals: ToolRow;
}

/** [group, calls, errors, cancelled, mean, sessions] */
const brief = (report: Tools) =>
  [...report.rows, report.totals].map((r) => [report.groupBy.map((d) => r.group[d] ?? "TOTAL").join(" | "), r.calls, r.errors, r.cancelled, r.meanDurationMs, r.sessions]);

let db: string;
const tools = (...args: string[]) => tallyJson<Tools>(["tools", "--db", db, ...args]);

beforeAll(() => {
  db = knownDb();
});
afterAll(removeTempDirs);

describe("by tool and server (the default)", () => {
  test("calls, errors (tool and protocol errors), cancelled, mean, distinct sessions", async () => {
    const r = await tools();
    expect(r.kind).toBe("tools");
    expect(r.groupBy).toEqual(["tool", "server"]);
    expect(r.range).toEqual({ since: null, until: null, timeZone: "UTC" });
    expect(brief(r)).toEqual([
      ["get_file | github", 3, 1, 1, 150, 2],
      ["search_code | github", 4, 1, 0, 250, 3],
      ["search_issues | jira", 3, 1, 0, 2000, 2],
      ["TOTAL | TOTAL", 10, 3, 1, 745, 4],
    ]);
    expect(r.rows.map((row) => row.errorRate)).toEqual([1 / 3, 0.25, 1 / 3]);
    expect(r.totals.errorRate).toBe(0.3);
  });

  test("p50/p95 from the rollups are within ±4.8 %", async () => {
    const r = await tools();
    const exact = [[150, 250], [200, 400], [2000, 3000]] as const;
    r.rows.forEach((row, i) => {
      expectWithinBucketError(row.p50DurationMs, exact[i]![0]);
      expectWithinBucketError(row.p95DurationMs, exact[i]![1]);
    });
    expectWithinBucketError(r.totals.p50DurationMs, 250);
    expectWithinBucketError(r.totals.p95DurationMs, 3000);
  });

  test("--exact reads raw rows: exact p50/p95", async () => {
    const r = await tools("--since", "2026-11-01T00:00:01Z", "--exact");
    expect(r.rows.map((row) => [row.p50DurationMs, row.p95DurationMs])).toEqual([[150, 250], [200, 400], [2000, 3000]]);
    expect([r.totals.p50DurationMs, r.totals.p95DurationMs]).toEqual([250, 3000]);
    expect(r.totals.calls).toBe(10);
  });

  test("the table", async () => {
    const out = (await tally(["tools", "--db", db])).stdout;
    expect(out.split("\n")[0]).toBe("All time (UTC)");
    expect(out.split("\n")[1]).toMatch(/^Tool +Server +Calls +Errors +Error rate +Cancelled +Mean +p50 +p95 +Sessions$/);
    expect(tableRow(out, "get_file").slice(0, 6)).toEqual(["get_file", "github", "3", "1", "33.3%", "1"]);
    expect(tableRow(out, "search_code").slice(0, 6)).toEqual(["search_code", "github", "4", "1", "25.0%", "0"]);
    expect(tableRow(out, "search_issues").at(-1)).toBe("2");
    const total = tableRow(out, "Total");
    expect([total.slice(0, 5), total.at(-1)]).toEqual([["Total", "10", "3", "30.0%", "1"], "4"]);
  });
});

describe("other groupings", () => {
  test("--by server", async () => {
    const r = await tools("--by", "server");
    expect(brief(r).map(([g, calls, errors, cancelled, , sessions]) => [g, calls, errors, cancelled, sessions])).toEqual([
      ["github", 7, 2, 1, 3],
      ["jira", 3, 1, 0, 2],
      ["TOTAL", 10, 3, 1, 4],
    ]);
    expect(r.rows[0]!.meanDurationMs).toBeCloseTo(1450 / 7, 9);
  });

  test("--by day: sessions are distinct within each day", async () => {
    const r = await tools("--by", "day");
    expect(brief(r).map(([g, calls, errors, cancelled, , sessions]) => [g, calls, errors, cancelled, sessions])).toEqual([
      ["2026-11-02", 1, 0, 0, 1],
      ["2026-11-16", 3, 1, 0, 2],
      ["2026-11-21", 3, 1, 0, 3],
      ["2026-11-22", 3, 1, 1, 1],
      ["TOTAL", 10, 3, 1, 4],
    ]);
  });

  test("--by tool,day", async () => {
    const r = await tools("--by", "tool,day", "--tool", "get_file");
    expect(brief(r).map(([g, calls]) => [g, calls])).toEqual([
      ["get_file | 2026-11-21", 2],
      ["get_file | 2026-11-22", 1],
      ["TOTAL | TOTAL", 3],
    ]);
  });
});

describe("filters, ranges, sort and limit", () => {
  test("--tool glob", async () => {
    const r = await tools("--tool", "search_*");
    expect(r.rows.map((row) => row.group.tool)).toEqual(["search_code", "search_issues"]);
    expect([r.totals.calls, r.totals.errors, r.totals.sessions]).toEqual([7, 2, 4]);
  });

  test("--tool repeated", async () => {
    const r = await tools("--tool", "get_file", "--tool", "search_code");
    expect([r.totals.calls, r.totals.errors, r.totals.cancelled, r.totals.sessions]).toEqual([7, 2, 1, 3]);
  });

  test("--server", async () => {
    const r = await tools("--server", "ji*");
    expect(brief(r)).toEqual([["search_issues | jira", 3, 1, 0, 2000, 2], ["TOTAL | TOTAL", 3, 1, 0, 2000, 2]]);
  });

  test("--since 7d leaves out the call of 11-02 and its session", async () => {
    const r = await tools("--since", "7d");
    expect(r.range.since).toBe("2026-11-15T15:30:00.000Z");
    expect(brief(r).at(-1)).toEqual(["TOTAL | TOTAL", 9, 3, 1, 5450 / 9, 3]);
    expect(r.rows.find((row) => row.group.tool === "search_issues")).toMatchObject({ calls: 2, errors: 1, sessions: 1, errorRate: 0.5 });
  });

  test("--sort and --limit; totals over all", async () => {
    expect((await tools("--sort", "calls", "--limit", "1")).rows.map((row) => row.group.tool)).toEqual(["search_code"]);
    expect((await tools("--sort", "sessions")).rows.map((row) => row.group.tool)).toEqual(["search_code", "get_file", "search_issues"]);
    expect((await tools("--sort", "duration")).rows.map((row) => row.group.tool)).toEqual(["search_issues", "search_code", "get_file"]);
    const r = await tools("--sort", "error-rate", "--limit", "2");
    expect(r.rows.map((row) => row.group.tool)).toEqual(["get_file", "search_issues"]);
    expect(r.totals.calls).toBe(10);
  });

  test("CSV", async () => {
    const run = await tally(["tools", "--db", db, "--by", "server", "--since", "2026-11-01T00:00:01Z", "--exact", "--format", "csv"]);
    expect(run.stdout).toBe(
      [
        "server,calls,errors,error_rate,cancelled,mean_duration_ms,p50_duration_ms,p95_duration_ms,sessions",
        `github,7,2,${2 / 7},1,${1450 / 7},200,400,3`,
        "jira,3,1,0.3333333333333333,0,2000,2000,3000,2",
        "TOTAL,10,3,0.3,1,745,250,3000,4",
        "",
      ].join("\r\n"),
    );
  });

  test("empty", async () => {
    expect((await tally(["tools", "--db", db, "--since", "2026-11-23"])).stdout).toBe("2026-11-23 00:00 UTC → now (UTC)\nNo tool calls in this range.\n");
    const r = await tools("--tool", "nothing");
    expect(r.rows).toEqual([]);
    expect(r.totals).toEqual({ group: {}, calls: 0, errors: 0, errorRate: 0, cancelled: 0, meanDurationMs: null, p50DurationMs: null, p95DurationMs: null, sessions: 0 });
  });
});
