/**
 * Filters are bound values and --by/--sort come from allow-lists: SQL in any of them matches
 * nothing or is refused as a usage error, and the database is byte-for-byte the same after.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeTempDirs } from "../support/temp-dir.ts";
import { expectCleanError, tally } from "./harness.ts";
import { fingerprint, knownDb } from "./known-db.ts";

let db: string;
let before: ReturnType<typeof fingerprint>;

beforeAll(() => {
  db = knownDb();
  before = fingerprint(db);
  expect(before.tables.executions).toBe(10);
});
afterAll(removeTempDirs);

const FILTER_ATTACKS: string[][] = [
  ["report", "--repo", "x' OR 1=1 --"],
  ["report", "--repo", "x' OR 1=1 --", "--exact"],
  ["report", "--repo", "*' OR '1'='1"],
  ["report", "--model", "%' UNION SELECT name, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 FROM sqlite_master --"],
  ["report", "--model", "%' UNION SELECT name FROM sqlite_master --", "--since", "12h"],
  ["report", "--event", "'; DROP TABLE executions; --"],
  ["report", "--event", "x\"); DELETE FROM daily_usage; --", "--by", "event"],
  ["tools", "--tool", "x' OR 1=1 --"],
  ["tools", "--server", "'; DROP TABLE tool_calls; --", "--by", "server,day"],
  ["degradations", "--repo", "x' OR 1=1 --"],
];

describe("SQL in filter values", () => {
  for (const args of FILTER_ATTACKS) {
    test(`${args.join(" ")}: exit 0, no rows`, async () => {
      const run = await tally([...args, "--db", db, "--json"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const doc = JSON.parse(run.stdout);
      expect(doc.rows).toEqual([]);
      if (args[0] === "report") expect(doc.totals.runs).toBe(0);
      if (args[0] === "tools") expect(doc.totals.calls).toBe(0);
      if (args[0] === "degradations") expect([doc.totals.degradedRuns, doc.totalRuns, doc.caches]).toEqual([0, 0, []]);
    });
  }
});

describe("SQL in --by, --sort and times", () => {
  const USAGE_ATTACKS: [string[], RegExp][] = [
    [["report", "--by", "repo; DROP TABLE executions"], /cannot group by 'repo; DROP TABLE executions'/],
    [["report", "--by", "repo,model) UNION SELECT * FROM executions --"], /cannot group by/],
    [["report", "--sort", "cost; DELETE FROM executions"], /cannot sort by 'cost; DELETE FROM executions'/],
    [["tools", "--by", "tool); DROP TABLE tool_calls; --"], /cannot group by/],
    [["tools", "--sort", "calls; DROP TABLE tool_calls"], /cannot sort by/],
    [["degradations", "--by", "repo; DROP TABLE rate_limit_events"], /cannot group by/],
    [["report", "--since", "2026-11-01'; DROP TABLE executions; --"], /cannot read/],
  ];
  for (const [args, message] of USAGE_ATTACKS) {
    test(`${args.join(" ")}: a usage error (exit 2)`, async () => {
      expectCleanError(await tally([...args, "--db", db]), 2, message);
    });
  }
});

test("afterwards the database is unchanged: row counts, every executions row, the schema", () => {
  expect(fingerprint(db)).toEqual(before);
});
