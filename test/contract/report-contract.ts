/**
 * The store-independent contract: what every store that takes records and answers reports
 * must do, typed to the `Store` and report interfaces only (no SQL, no file), so another store
 * (PostgreSQL next) plugs in with a factory. Run on bun:sqlite under Bun
 * (test/unit/sqlite-contract.test.ts) and on better-sqlite3 under Node against the built
 * package (test/node/contract.node.mjs). The SQLite-only suite (PRAGMAs, WAL, checkpoints,
 * migrations) is store-contract.ts.
 *
 * No test framework in here: the runner hands in `describe`/`test`; assertions are node:assert.
 * Every expected number is worked out by hand from the records written, or is the same report
 * read from raw rows only (`exact`).
 */
import assert from "node:assert/strict";
import type { Batch, MaybePromise, Report, ReportSpec, StoredRecord, WriteResult } from "tally";
import { rng } from "./random.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "./rows.ts";

/** A store as this suite sees it: writes, purges, reports; async or not. */
export interface ContractStore {
  write(batch: Batch): MaybePromise<WriteResult>;
  report<S extends ReportSpec>(spec: S): MaybePromise<Report<S>>;
  purgeOlderThan(days: number): MaybePromise<number>;
  close(): MaybePromise<void>;
}

export interface ReportContractSubject {
  name: string;
  describe(name: string, body: () => void): void;
  test(name: string, body: () => unknown | Promise<unknown>): void;
  /**
   * A new, empty store that keeps raw rows until purged by hand (no retention at open), on the
   * clock `now` (the store's `now` option), so that no result depends on the day the tests run.
   */
  openStore(now: () => number): MaybePromise<ContractStore>;
}

/** The contract's clock: a few days after the records it writes (2026-11-20), whatever the real date. */
export const CONTRACT_NOW = Date.UTC(2026, 10, 25, 12);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Counts and sums of a report, without the percentiles (which are estimates from rollups). */
function sums(report: { rows: object[]; totals: object }) {
  const strip = ({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: Record<string, unknown>) => rest;
  return { rows: report.rows.map((r) => strip(r as Record<string, unknown>)), totals: strip(report.totals as Record<string, unknown>) };
}

export function reportContract(s: ReportContractSubject): void {
  const { describe, test } = s;

  async function withStore<T>(body: (store: ContractStore) => Promise<T>): Promise<T> {
    const store = await s.openStore(() => CONTRACT_NOW);
    try {
      return await body(store);
    } finally {
      await store.close();
    }
  }

  async function write(store: ContractStore, batch: StoredRecord[]): Promise<number> {
    const result = await store.write(batch);
    assert.ok(result.ok, `write failed: ${result.ok ? "" : result.error.message}`);
    return result.inserted;
  }

  describe(`${s.name}: exactly once`, () => {
    test("the same batch twice counts once in every report; one degraded run per (delivery, event type)", async () => {
      await withStore(async (store) => {
        const at = Date.UTC(2026, 10, 20, 10);
        const batch = [
          execution({ createdAt: at, inputTokens: 100, costUsd: 0.5 }),
          execution({ createdAt: at, inputTokens: 200, costUsd: 0.25 }),
          toolCall({ createdAt: at, durationMs: 40 }),
          rateLimitEvent({ createdAt: at, deliveryId: "d-1", eventType: "pull_request.opened" }),
          rateLimitEvent({ createdAt: at, deliveryId: "d-1", eventType: "pull_request.opened" }),
          cacheEvent({ createdAt: at, outcome: "hit" }),
        ];
        assert.equal(await write(store, batch), 5);
        assert.equal(await write(store, batch), 0);
        const range = { since: Date.UTC(2026, 10, 20), until: Date.UTC(2026, 10, 21) };
        const usage = await store.report({ kind: "usage", groupBy: [], range });
        assert.deepEqual([usage.totals.runs, usage.totals.inputTokens, usage.totals.costUsd], [2, 300, 0.75]);
        assert.equal((await store.report({ kind: "tools", groupBy: [], range })).totals.calls, 1);
        const degradations = await store.report({ kind: "degradations", groupBy: [], range });
        assert.deepEqual([degradations.totals.degradedRuns, degradations.totalRuns, degradations.caches[0]?.hits], [1, 2, 1]);
      });
    });
  });

  describe(`${s.name}: report numbers`, () => {
    test("by repo, day, model, event and conclusion: sums worked out by hand", async () => {
      await withStore(async (store) => {
        const d20 = Date.UTC(2026, 10, 20);
        await write(store, [
          execution({ createdAt: d20 + 1 * HOUR, repo: "acme/api", model: "m-a", eventType: "pr", conclusion: "success", inputTokens: 10, outputTokens: 1, costUsd: 1, durationMs: 1000 }),
          execution({ createdAt: d20 + 2 * HOUR, repo: "acme/api", model: "m-b", eventType: "comment", conclusion: "failure", inputTokens: 20, outputTokens: 2, costUsd: 0.5, durationMs: 2000 }),
          execution({ createdAt: d20 + 30 * HOUR, repo: "acme/web", model: "m-a", eventType: "pr", conclusion: "error", inputTokens: 40, outputTokens: 4, costUsd: 0.25, durationMs: 3000 }),
          execution({ createdAt: d20 + 31 * HOUR, repo: "other/x", model: "m-x", eventType: "pr", conclusion: "success", inputTokens: 80, outputTokens: 8, costUsd: 0, costSource: "unpriced", durationMs: 4000 }),
        ]);
        const range = { since: d20, until: d20 + 2 * DAY };
        const byRepo = await store.report({ kind: "usage", groupBy: ["repo"], range });
        assert.deepEqual(byRepo.rows.map((r) => [r.group.repo, r.runs, r.inputTokens, r.outputTokens, r.costUsd, r.unpricedRuns]), [
          ["acme/api", 2, 30, 3, 1.5, 0],
          ["acme/web", 1, 40, 4, 0.25, 0],
          ["other/x", 1, 80, 8, 0, 1],
        ]);
        assert.deepEqual(byRepo.unpricedModels, ["m-x"]);
        assert.deepEqual([byRepo.totals.successes, byRepo.totals.failures, byRepo.totals.errors, byRepo.totals.meanDurationMs], [2, 1, 1, 2500]);
        const byDay = await store.report({ kind: "usage", groupBy: ["day"], range, timeZone: "UTC" });
        assert.deepEqual(byDay.rows.map((r) => [r.group.day, r.runs]), [["2026-11-20", 2], ["2026-11-21", 2]]);
        // In Los Angeles (UTC-8) 11-21 06:00 and 07:00 UTC are still 11-20.
        const la = await store.report({ kind: "usage", groupBy: ["day"], range, timeZone: "America/Los_Angeles" });
        assert.deepEqual(la.rows.map((r) => [r.group.day, r.runs]), [["2026-11-19", 2], ["2026-11-20", 2]]);
        const byEvent = await store.report({ kind: "usage", groupBy: ["event", "conclusion"], range, filters: { repos: ["acme/*"] } });
        assert.deepEqual(byEvent.rows.map((r) => [r.group.event, r.group.conclusion, r.runs]), [["comment", "failure", 1], ["pr", "error", 1], ["pr", "success", 1]]);
        // sort and limit are part of the spec: the rows arranged, the totals over every row.
        const top = await store.report({ kind: "usage", groupBy: ["repo"], range, sort: "input", limit: 2 });
        assert.deepEqual(top.rows.map((r) => [r.group.repo, r.inputTokens]), [["other/x", 80], ["acme/web", 40]]);
        assert.equal(top.totals.runs, 4);
        await assert.rejects(async () => store.report({ kind: "usage", groupBy: ["repo"], range, sort: "bogus" as "cost" }), /cannot sort by "bogus"/);
        await assert.rejects(async () => store.report({ kind: "tools", groupBy: ["tool"], range, limit: 0 }), /limit must be a positive whole number/);
        // Half-open: a run exactly at `until` is out, one exactly at `since` is in.
        const edge = await store.report({ kind: "usage", groupBy: [], range: { since: d20 + 2 * HOUR, until: d20 + 30 * HOUR } });
        assert.equal(edge.totals.runs, 1);
      });
    });
  });

  describe(`${s.name}: one batch, the same rollup rows many times`, () => {
    test("300 runs of one group across an hour edge, and groups whose parts look alike: sums exact, every run in a sketch", async () => {
      await withStore(async (store) => {
        const edge = Date.UTC(2026, 10, 20, 11);
        const batch: StoredRecord[] = [];
        for (let i = 0; i < 300; i++) {
          batch.push(execution({ createdAt: edge - 150_000 + i * 1000, repo: "acme/api", model: "m", eventType: "pr", conclusion: "success", inputTokens: i, costUsd: 0.25, durationMs: 100 + i * 10 }));
        }
        // Keys that a naive joined key could confuse: the parts differ, the concatenation does not.
        // (Costs in binary fractions: float sums are then exact in any order, in every database.)
        batch.push(execution({ createdAt: edge + HOUR, repo: "a/b", model: "c", inputTokens: 1, costUsd: 0.5 }));
        batch.push(execution({ createdAt: edge + HOUR, repo: "a", model: "b/c", inputTokens: 2, costUsd: 0.5 }));
        assert.equal(await write(store, batch), 302);
        // A later write moves the writer past those hours (SQLite rolls hours up once closed and passed).
        assert.equal(await write(store, [execution({ createdAt: edge + 5 * HOUR, repo: "later" })]), 1);
        const range = { since: edge - 2 * HOUR, until: edge + 2 * HOUR };
        for (const groupBy of [["hour"], ["repo", "model"], []] as const) {
          const spec: ReportSpec = { kind: "usage", groupBy: [...groupBy], range, timeZone: "UTC" };
          const report = await store.report(spec);
          assert.deepEqual(sums(report), sums(await store.report({ ...spec, exact: true })), JSON.stringify(groupBy));
        }
        const byHour = await store.report({ kind: "usage", groupBy: ["hour"], range, timeZone: "UTC", filters: { repos: ["acme/api"] } });
        assert.deepEqual(byHour.rows.map((r) => [r.group.hour, r.runs]), [["2026-11-20T10:00Z", 150], ["2026-11-20T11:00Z", 150]]);
        assert.equal(byHour.totals.inputTokens, (299 * 300) / 2);
        const byRepo = await store.report({ kind: "usage", groupBy: ["repo", "model"], range });
        assert.deepEqual(byRepo.rows.map((r) => [r.group.repo, r.group.model, r.inputTokens]), [["a", "b/c", 2], ["a/b", "c", 1], ["acme/api", "m", 44_850]]);
        // Every run is in a sketch: the p95 of the 300 (100 … 3090 ms) is within the sketch's 4.8 %.
        const p95 = byRepo.rows[2]!.p95DurationMs!;
        assert.ok(Math.abs(p95 - 2940) <= 2940 * 0.05, `p95 ${p95}`);
      });
    });
  });

  describe(`${s.name}: rollups equal raw rows`, () => {
    test("for random ranges, zones and groupings, every count and sum equals the raw rows' (exact)", async () => {
      await withStore(async (store) => {
        const random = rng(41);
        const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
        const start = Date.UTC(2026, 2, 20);
        const span = 20 * DAY; // across Europe's and the US's daylight-saving starts
        const records: StoredRecord[] = [];
        for (let i = 0; i < 800; i++) {
          const createdAt = start + Math.floor(random() * span);
          records.push(execution({ createdAt, repo: pick(["a/x", "a/y", "b/z"]), model: pick(["m1", "m2"]), conclusion: pick(["success", "failure", "error"]),
            inputTokens: Math.floor(random() * 1000), costUsd: Math.floor(random() * 64) / 64, durationMs: Math.floor(random() * 60_000) }));
          records.push(toolCall({ createdAt, toolName: pick(["t1", "t2"]), durationMs: Math.floor(random() * 900) }));
        }
        await write(store, records);
        const zones = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"];
        let fromRollups = 0;
        for (let i = 0; i < 60; i++) {
          const since = start + Math.floor(random() * span);
          const until = since + pick([HOUR, DAY, 3 * DAY, 10 * DAY]) + Math.floor(random() * HOUR);
          const spec: ReportSpec = {
            kind: "usage", range: random() < 0.2 ? { since } : { since, until }, timeZone: pick(zones),
            groupBy: [pick(["day", "hour", "week", "month"] as const), ...(random() < 0.5 ? (["repo"] as const) : [])],
          };
          const report = await store.report(spec);
          const exact = await store.report({ ...spec, exact: true });
          if (report.source === "rollups") fromRollups++;
          assert.deepEqual(sums(report), sums(exact), `case ${i}: ${JSON.stringify(spec)}`);
          const tools: ReportSpec = { kind: "tools", range: spec.range, timeZone: spec.timeZone, groupBy: ["day", "tool"] };
          assert.deepEqual(sums(await store.report(tools)), sums(await store.report({ ...tools, exact: true })), `tools case ${i}`);
        }
        assert.ok(fromRollups > 10, `the rollups answered ${fromRollups} of 60 cases`);
      });
    });
  });

  describe(`${s.name}: retention`, () => {
    test("purging raw rows keeps whole days exact from the rollups", async () => {
      await withStore(async (store) => {
        // On the store's clock: 100 days before it is purged by a 90-day cut-off.
        const today = Math.floor(CONTRACT_NOW / DAY) * DAY;
        const old = today - 100 * DAY;
        await write(store, [execution({ createdAt: old + HOUR, inputTokens: 7 }), execution({ createdAt: old + 2 * HOUR, inputTokens: 5 }), execution({ createdAt: today - DAY })]);
        assert.ok((await store.purgeOlderThan(90)) >= 2);
        const whole = await store.report({ kind: "usage", groupBy: [], range: { since: old, until: old + DAY } });
        assert.deepEqual([whole.totals.runs, whole.totals.inputTokens], [2, 12]);
        // The raw rows themselves are gone: a raw-only read of that day finds nothing.
        assert.equal((await store.report({ kind: "usage", groupBy: [], range: { since: old, until: old + DAY }, exact: true })).totals.runs, 0);
      });
    });
  });
}
