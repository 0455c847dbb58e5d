/**
 * The report engine's statements, as it issues them (recorded through a wrapping driver, so
 * nothing is reconstructed by hand), run through EXPLAIN QUERY PLAN with their bound values:
 * rollup answers search their table (daily_usage, or the coarser daily_model_usage) by its
 * primary-key day range, raw answers use the created_at index, and no statement scans a whole
 * table when the range is bounded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ReportSpec, UsageDimension } from "../../src/report/spec.ts";
import type { SqliteDriver, SqlValue } from "../../src/store/sqlite/driver.ts";
import { openDriver } from "../../src/store/sqlite/load-driver.ts";
import { reportProgram } from "../../src/report/report-program.ts";
import { runProgram } from "../../src/report/sql/query.ts";
import { sqliteDialect } from "../../src/store/sqlite/dialect.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { knownDb } from "./known-db.ts";

interface Issued {
  sql: string;
  params: SqlValue[];
}

/** A driver that keeps every statement run through it, with its values. */
function recording(inner: SqliteDriver): { driver: SqliteDriver; issued: Issued[] } {
  const issued: Issued[] = [];
  const driver: SqliteDriver = {
    name: inner.name,
    exec: (sql) => inner.exec(sql),
    close: () => inner.close(),
    prepare(sql) {
      const statement = inner.prepare(sql);
      return {
        run: (...params) => (issued.push({ sql, params }), statement.run(...params)),
        get: (...params) => (issued.push({ sql, params }), statement.get(...params)),
        all: (...params) => (issued.push({ sql, params }), statement.all(...params)),
      };
    },
  };
  return { driver, issued };
}

let db: string;
let driver: SqliteDriver;

beforeAll(() => {
  db = knownDb();
  driver = openDriver({ path: db, readonly: true });
});
afterAll(() => {
  driver.close();
  removeTempDirs();
});

/** Each statement the report ran, with the plan SQLite chose for it. */
function plans(spec: ReportSpec): { sql: string; plan: string[] }[] {
  const { driver: recorder, issued } = recording(driver);
  runProgram(reportProgram(sqliteDialect, spec), (query) => recorder.prepare(query.sql).all(...query.params));
  expect(issued.length).toBeGreaterThan(0);
  return issued.map(({ sql, params }) => ({
    sql,
    plan: driver.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((row) => String(row.detail)),
  }));
}

const TABLES = ["executions", "tool_calls", "rate_limit_events", "cache_events", "daily_usage", "daily_model_usage", "daily_tool_usage", "hourly_model_usage", "hourly_usage", "tally_meta"];
const fullScans = (steps: { plan: string[] }[]) =>
  steps.flatMap((s) => s.plan).filter((line) => TABLES.some((t) => new RegExp(`^SCAN ${t}\\b`).test(line)));

const WEEK = { since: Date.parse("2026-11-16T00:00:00Z"), until: Date.parse("2026-11-23T00:00:00Z") };
const SINCE_ONLY = { since: Date.parse("2026-11-16T00:00:00Z") };
const HOURS = { since: Date.parse("2026-11-22T03:30:00Z"), until: Date.parse("2026-11-22T15:30:00Z") };

/** The query that closes an open range at the data's own bounds: min/max of a time column. */
const isBoundsQuery = (sql: string) => /^SELECT m(in|ax)\(/.test(sql);

/** The rollup table a statement reads, if any (daily_usage, daily_model_usage, daily_tool_usage…). */
const rollupOf = (sql: string) => /\bFROM (daily_\w+)/.exec(sql)?.[1];

describe("usage report", () => {
  const ANY_ROLLUP = /^daily_\w+$/;
  const cases: [UsageDimension[], RegExp][] = [
    [["day"], ANY_ROLLUP],
    [["repo"], ANY_ROLLUP],
    [["repo", "model"], ANY_ROLLUP],
    // Event and conclusion are only in daily_usage.
    [["event"], /^daily_usage$/],
    [["week", "conclusion"], /^daily_usage$/],
  ];
  for (const [groupBy, table] of cases) {
    const name = table === ANY_ROLLUP ? "a daily rollup" : "daily_usage";
    test(`rollups, --by ${groupBy.join(",")}: SEARCH ${name} USING PRIMARY KEY on the day range`, () => {
      for (const range of [WEEK, SINCE_ONLY]) {
        const steps = plans({ kind: "usage", groupBy: [...groupBy], range, filters: { repos: ["acme/*"] } });
        expect(fullScans(steps)).toEqual([]);
        // An open end is closed at the data's own first or last UTC day (a min/max query each).
        const key = "(day>? AND day<?)";
        const onRollups = steps.filter((s) => rollupOf(s.sql) !== undefined && !isBoundsQuery(s.sql));
        // Sums and duration sketches in one statement (and unpriced models only when the range has unpriced runs).
        expect(onRollups.length).toBeGreaterThanOrEqual(1);
        for (const step of onRollups) {
          expect(rollupOf(step.sql)).toMatch(table);
          expect(step.plan).toContainEqual(`SEARCH ${rollupOf(step.sql)} USING PRIMARY KEY ${key}`);
        }
        expect(steps.some((s) => /FROM executions/.test(s.sql) && !isBoundsQuery(s.sql))).toBe(false);
      }
    });
  }

  test("raw rows (--exact, or an hour range): SEARCH executions USING INDEX idx_executions_created_at", () => {
    for (const spec of [
      { kind: "usage", groupBy: ["repo"], range: WEEK, exact: true },
      { kind: "usage", groupBy: ["day", "model"], range: HOURS },
      { kind: "usage", groupBy: ["event"], range: { since: HOURS.since }, filters: { models: ["claude-*"] } },
    ] satisfies ReportSpec[]) {
      const steps = plans(spec);
      expect(fullScans(steps)).toEqual([]);
      const onExecutions = steps.filter((s) => /FROM executions/.test(s.sql) && !isBoundsQuery(s.sql));
      expect(onExecutions.length).toBeGreaterThanOrEqual(1); // sums with durations listed (and unpriced models)
      for (const step of onExecutions) {
        expect(step.plan.some((line) => /^SEARCH executions USING (COVERING )?INDEX idx_executions_created_at \(created_at>\?( AND created_at<\?)?\)$/.test(line))).toBe(true);
      }
    }
  });
});

describe("hourly rollups", () => {
  test("whole hours of a partial day: SEARCH hourly_model_usage USING PRIMARY KEY on the hour range", () => {
    // known-db's writer rolled up the hours of its first runs (to 2026-11-16 01:00).
    const range = { since: Date.parse("2026-11-01T12:30:00Z"), until: Date.parse("2026-11-09T12:30:00Z") };
    for (const spec of [
      { kind: "usage", groupBy: ["repo"], range },
      { kind: "usage", groupBy: ["day", "model"], range, timeZone: "Asia/Kolkata" },
    ] satisfies ReportSpec[]) {
      const steps = plans(spec);
      expect(fullScans(steps)).toEqual([]);
      expect(steps.flatMap((s) => s.plan).some((l) => /^SEARCH hourly_model_usage USING PRIMARY KEY \(hour>\? AND hour<\?\)$/.test(l))).toBe(true);
    }
  });

  test("by event or conclusion: SEARCH hourly_usage USING PRIMARY KEY on the hour range, no raw runs but the edges", () => {
    const range = { since: Date.parse("2026-11-01T12:30:00Z"), until: Date.parse("2026-11-09T12:30:00Z") };
    for (const spec of [
      { kind: "usage", groupBy: ["event"], range },
      { kind: "usage", groupBy: ["day", "conclusion"], range, timeZone: "America/Los_Angeles", filters: { events: ["pull_request.*"] } },
    ] satisfies ReportSpec[]) {
      const steps = plans(spec);
      expect(fullScans(steps)).toEqual([]);
      expect(steps.flatMap((s) => s.plan).some((l) => /^SEARCH hourly_usage USING PRIMARY KEY \(hour>\? AND hour<\?\)$/.test(l))).toBe(true);
    }
  });
});

describe("tools and degradations reports", () => {
  const byPrimaryKey = (table: string) => `SEARCH ${table} USING PRIMARY KEY (day>? AND day<?)`;
  const byTimeIndex = (table: string) => new RegExp(`^SEARCH ${table} USING (COVERING )?INDEX idx_${table}_created_at \\(created_at>\\? AND created_at<\\?\\)$`);

  test("tools: whole days from the tool rollups and the sessions kept per day, by primary key; partial days through the created_at index", () => {
    const week = plans({ kind: "tools", groupBy: ["tool", "server"], range: WEEK });
    expect(fullScans(week)).toEqual([]);
    expect(week.flatMap((s) => s.plan)).toContainEqual(byPrimaryKey("daily_tool_usage"));
    expect(week.flatMap((s) => s.plan)).toContainEqual(byPrimaryKey("daily_tool_sessions"));
    expect(week.some((s) => /FROM tool_calls/.test(s.sql) && !isBoundsQuery(s.sql))).toBe(false);
    const hours = plans({ kind: "tools", groupBy: ["tool", "server"], range: HOURS });
    expect(fullScans(hours)).toEqual([]);
    expect(hours.flatMap((s) => s.plan).some((l) => byTimeIndex("tool_calls").test(l))).toBe(true);
  });

  test("degradations: whole days from daily_degradations and daily_cache_usage by primary key; partial days through each raw table's created_at index", () => {
    const week = plans({ kind: "degradations", groupBy: ["repo"], range: WEEK });
    expect(fullScans(week)).toEqual([]);
    for (const table of ["daily_degradations", "daily_cache_usage"]) expect(week.flatMap((s) => s.plan)).toContainEqual(byPrimaryKey(table));
    expect(week.some((s) => /FROM (rate_limit_events|cache_events)/.test(s.sql) && !isBoundsQuery(s.sql))).toBe(false);
    const hours = plans({ kind: "degradations", groupBy: ["repo"], range: HOURS });
    expect(fullScans(hours)).toEqual([]);
    const lines = hours.flatMap((s) => s.plan);
    for (const table of ["rate_limit_events", "cache_events"]) expect(lines.some((l) => byTimeIndex(table).test(l))).toBe(true);
    // The runs in range (to put degraded runs in proportion) come from the usage rollups, as a usage report's do.
    expect([...lines, ...week.flatMap((s) => s.plan)].some((l) => /^SCAN executions\b/.test(l))).toBe(false);
  });
});
