/**
 * The property the report engine promises: for any range (durations, dates, ISO times, open
 * ends), any zone (including +05:30, +05:45 and Lord Howe's half-hour daylight saving) and any
 * grouping, the answer built from rollups and raw edges equals a scan of the raw rows
 * (`exact`) on every count and sum. Random records across months and DST changes; a fixed
 * seed in CI (REPORT_PROPERTY_SEED to choose another), printed when a case fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { StoredRecord } from "../../src/core/rows.ts";
import { BUCKET_RELATIVE_ERROR } from "../../src/core/duration-buckets.ts";
import { DEGRADATION_DIMENSIONS, USAGE_DIMENSIONS, TOOL_DIMENSIONS, type DegradationDimension, type DegradationsReportSpec, type DurationStats, type ToolDimension, type UsageDimension, type UsageReportSpec, type ToolsReportSpec } from "../../src/report/spec.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { rng } from "../fixtures/claude-code/generate-transcripts.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

const SEED = Number(process.env.REPORT_PROPERTY_SEED ?? 20261201);
const CASES = Number(process.env.REPORT_PROPERTY_CASES ?? 300);
const ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/Los_Angeles", "Australia/Lord_Howe", "Europe/Berlin", "America/Sao_Paulo"];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-02-01 to 2026-06-01 and the autumn changes: spring and autumn DST in both hemispheres. */
const SPANS = [
  [Date.UTC(2026, 1, 20), Date.UTC(2026, 4, 10)],
  [Date.UTC(2026, 8, 25), Date.UTC(2026, 10, 15)],
] as const;

let store: SqliteStore;
const random = rng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** An instant in one of the spans: often on a whole hour or day, often not. */
function instant(): number {
  const [from, to] = pick(SPANS);
  const t = from + Math.floor(random() * (to - from));
  const shape = random();
  if (shape < 0.2) return Math.floor(t / HOUR) * HOUR;
  if (shape < 0.35) return Math.floor(t / DAY) * DAY;
  if (shape < 0.45) return Math.floor(t / HOUR) * HOUR + 30 * 60_000; // on +05:30's hours
  if (shape < 0.5) return Math.floor(t / HOUR) * HOUR + 15 * 60_000; // on +05:45's hours
  return t;
}

beforeAll(() => {
  // The store's clock follows the records, as a service's would, so the writer rolls up hours.
  let clock = 0;
  store = openSqliteStore({ path: join(tempDir(), "property.db"), retentionDays: 0, now: () => clock });
  const records: StoredRecord[] = [];
  for (let i = 0; i < 4000; i++) {
    records.push(execution({
      createdAt: instant(),
      repo: pick(["acme/api", "acme/web", "other/tool"]),
      model: pick(["claude-sonnet-4-5", "claude-opus-4-1", "gpt-4o"]),
      provider: pick(["anthropic", "openai"]),
      eventType: pick(["pull_request.opened", "issue_comment.created"]),
      conclusion: pick(["success", "success", "failure", "error"]),
      inputTokens: int(0, 5000), outputTokens: int(0, 900), cacheReadTokens: int(0, 20_000), cacheCreationTokens: int(0, 300),
      // Binary fractions: float sums are exact in any order, so "equal" can mean equal.
      costUsd: int(0, 4096) / 1024, costSource: pick(["reported", "computed", "unpriced"]),
      durationMs: int(0, 120_000),
    }));
    records.push(toolCall({ createdAt: instant(), toolName: pick(["search", "read", "write"]), server: pick(["github", "jira", ""]),
      outcome: pick(["ok", "ok", "tool_error", "cancelled"]), durationMs: int(0, 5000), sessionId: pick(["s1", "s2", "s3", "s4", "s5", null]) }));
    if (i % 4 === 0) {
      records.push(rateLimitEvent({ createdAt: instant(), deliveryId: null, repo: pick(["acme/api", "acme/web", "other/tool"]), resource: pick(["search", "graphql"]),
        retryAttempts: int(0, 3), skippedQueries: int(0, 2), degradation: pick(["partial", "skipped"]) }));
      records.push(cacheEvent({ createdAt: instant(), cache: pick(["diffs", "files"]), repo: pick(["acme/api", "other/tool"]), outcome: pick(["hit", "hit", "miss", "error"]) }));
    }
  }
  // In time order, in small batches, but one record in twenty arrives late (at the end), so
  // hours already rolled up are rolled up again.
  const at = (r: StoredRecord) => (r.row as { createdAt: number }).createdAt;
  const late = records.filter((_, i) => i % 20 === 7);
  const onTime = records.filter((_, i) => i % 20 !== 7).sort((a, b) => at(a) - at(b));
  for (const batch of [...chunks(onTime, 25), ...chunks(late, 25)]) {
    clock = Math.max(clock, ...batch.map(at)) + 60_000;
    const result = store.write(batch);
    if (!result.ok) throw result.error;
  }
});

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
afterAll(() => {
  store.close();
  removeTempDirs();
});

/** A random range: rolling durations, dates, ISO instants or open ends. */
function range(): { since?: number; until?: number } {
  const a = instant();
  const b = a + pick([HOUR, 90 * 60_000, DAY, 7 * DAY, 30 * DAY, int(1, 60 * DAY)]);
  const shape = random();
  if (shape < 0.1) return {};
  if (shape < 0.2) return { since: a };
  if (shape < 0.3) return { until: b };
  return { since: a, until: b };
}

function groupBy<D extends string>(dims: readonly D[], timeDims: readonly D[]): D[] {
  const chosen = new Set<D>();
  if (random() < 0.7) chosen.add(pick(timeDims));
  for (const d of dims) if (!timeDims.includes(d) && random() < 0.25) chosen.add(d);
  return [...chosen];
}

/**
 * Percentiles from rollups are within the sketches' error of the exact ones (and rounded to
 * whole ms): a sketch added or taken away with the wrong sign would move them further.
 */
function expectPercentilesClose(label: string, rollups: { rows: DurationStats[]; totals: DurationStats }, exact: { rows: DurationStats[]; totals: DurationStats }) {
  const pairs: [DurationStats, DurationStats][] = [[rollups.totals, exact.totals], ...rollups.rows.map((row, i): [DurationStats, DurationStats] => [row, exact.rows[i]!])];
  for (const [approx, truth] of pairs) {
    for (const field of ["p50DurationMs", "p95DurationMs"] as const) {
      const want = truth[field];
      if (want === null) {
        expect({ label, field, value: approx[field] }).toEqual({ label, field, value: null });
        continue;
      }
      const error = Math.abs((approx[field] ?? Number.NaN) - want);
      expect({ label, field, close: error <= want * BUCKET_RELATIVE_ERROR + 0.5 }).toEqual({ label, field, close: true });
    }
  }
}

/** Every count and sum of a report's rows and totals, without the percentiles. */
function sums(report: { rows: object[]; totals: object }) {
  const strip = ({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: any) => rest;
  return { rows: report.rows.map(strip), totals: strip(report.totals) };
}

describe(`rollups plus raw edges equal --exact (seed ${SEED})`, () => {
  test(`usage: ${CASES} random ranges, zones and groupings`, () => {
    let fromRollups = 0;
    for (let i = 0; i < CASES; i++) {
      const spec: UsageReportSpec = {
        kind: "usage", range: range(), timeZone: pick(ZONES), groupBy: groupBy(USAGE_DIMENSIONS, ["hour", "day", "week", "month"]),
        filters: random() < 0.2 ? { repos: ["acme/*"] } : undefined,
      };
      const rollups = store.report(spec);
      const exact = store.report({ ...spec, exact: true });
      if (rollups.source === "rollups") fromRollups++;
      const label = `case ${i} (seed ${SEED}): ${JSON.stringify(spec)}`;
      expect({ label, ...sums(rollups) }).toEqual({ label, ...sums(exact) });
      expect(rollups.unpricedModels).toEqual(exact.unpricedModels);
      expectPercentilesClose(label, rollups, exact);
    }
    // The property says something only if the rollups answered often.
    expect(fromRollups).toBeGreaterThan(CASES / 4);
  }, 120_000);

  test(`tools: ${Math.ceil(CASES / 3)} random ranges, zones and groupings`, () => {
    for (let i = 0; i < CASES / 3; i++) {
      const spec: ToolsReportSpec = { kind: "tools", range: range(), timeZone: pick(ZONES), groupBy: groupBy<ToolDimension>(TOOL_DIMENSIONS, ["hour", "day"]) };
      const label = `case ${i} (seed ${SEED}): ${JSON.stringify(spec)}`;
      const rollups = store.report(spec);
      const exact = store.report({ ...spec, exact: true });
      expect({ label, ...sums(rollups) }).toEqual({ label, ...sums(exact) });
      expectPercentilesClose(label, rollups, exact);
    }
  }, 120_000);

  test(`degradations and cache lookups: ${Math.ceil(CASES / 3)} random ranges, zones and groupings`, () => {
    let fromRollups = 0;
    for (let i = 0; i < CASES / 3; i++) {
      const spec: DegradationsReportSpec = {
        kind: "degradations", range: range(), timeZone: pick(ZONES), groupBy: groupBy<DegradationDimension>(DEGRADATION_DIMENSIONS, ["hour", "day"]),
        filters: random() < 0.2 ? { repos: ["acme/*"] } : undefined,
      };
      const label = `case ${i} (seed ${SEED}): ${JSON.stringify(spec)}`;
      const rollups = store.report(spec);
      const exact = store.report({ ...spec, exact: true });
      expect({ label, ...rollups }).toEqual({ label, ...exact });
      if (rollups.totals.degradedRuns > 0 && !spec.groupBy.includes("hour")) fromRollups++;
    }
    expect(fromRollups).toBeGreaterThan(CASES / 12);
  }, 120_000);

  test("a day is a calendar day in its zone: 23 hours when DST starts, 25 when it ends, and still one row", () => {
    const berlin = (day: string) => store.report({ kind: "usage", groupBy: ["day"], timeZone: "Europe/Berlin", range: {}, exact: true }).rows.find((r) => r.group.day === day);
    const count = (since: number, until: number) =>
      store.report({ kind: "usage", groupBy: [], range: { since, until }, exact: true }).totals.runs;
    // 2026-03-29: clocks go 02:00 → 03:00 (23 h, from 22:00Z the day before); 2026-10-25: 03:00 → 02:00 (25 h).
    expect(berlin("2026-03-29")?.runs ?? 0).toBe(count(Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22)));
    expect(berlin("2026-10-25")?.runs ?? 0).toBe(count(Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23)));
  });
});
