import { describe, expect, test } from "bun:test";
import { floorTo, HOUR_MS, QUARTER_HOUR_MS } from "../../src/core/time-units.ts";
import { add, Groups, modelUsageSums, RunGroups, signed, usageSums, type ExecutionRollupGroups, type RolledUpExecution } from "../../src/store/rollup-sums.ts";
import { utcDay } from "../../src/store/sqlite/utc-day.ts";
import { rng } from "../contract/random.ts";

describe("rollup groups of a batch", () => {
  test("keys whose parts differ stay apart, whatever characters the parts hold; sums and sketches add up", () => {
    const groups = new Groups();
    add(groups, ["a\u0000b", "c"], [1, 10], 5);
    add(groups, ["a", "b\u0000c"], [1, 20], 5);
    add(groups, ["a\u0000b", "c"], [1, 30], 500);
    add(groups, ["a", "b\u0000c"], [1, 40], 5, -1);
    expect(groups.size).toBe(2);
    const byKey = new Map([...groups.values()].map((g) => [g.key.join("|"), g]));
    expect(byKey.get("a\u0000b|c")!.sums).toEqual([2, 40]);
    expect(byKey.get("a|b\u0000c")!.sums).toEqual([2, 60]);
    expect([...byKey.get("a\u0000b|c")!.buckets.values()]).toEqual([1, 1]);
    expect([...byKey.get("a|b\u0000c")!.buckets.values()]).toEqual([0]); // one run in, one taken back out
    expect(new Set([...groups].map((g) => g.id)).size).toBe(2);
  });
});

describe("a batch's runs summed once, then folded into the five execution rollups", () => {
  const fiveRollups = (): ExecutionRollupGroups => ({ daily: new Groups(), hourly: new Groups(), dailyModel: new Groups(), hourlyModel: new Groups(), quarterHour: new Groups() });

  /** The reference: every run added to each rollup on its own, by its table's key and sums. */
  function runByRun(runs: readonly [RolledUpExecution, 1 | -1][]): ExecutionRollupGroups {
    const out = fiveRollups();
    for (const [row, sign] of runs) {
      const day = utcDay(row.createdAt);
      const hour = String(floorTo(row.createdAt, HOUR_MS));
      add(out.daily, [day, row.repo, row.eventType, row.provider, row.model, row.conclusion], signed(usageSums(row), sign), row.durationMs, sign);
      add(out.hourly, [hour, row.repo, row.eventType, row.provider, row.model, row.conclusion], signed(usageSums(row), sign), row.durationMs, sign);
      add(out.dailyModel, [day, row.repo, row.provider, row.model], signed(modelUsageSums(row), sign), row.durationMs, sign);
      add(out.hourlyModel, [hour, row.repo, row.provider, row.model], signed(modelUsageSums(row), sign), row.durationMs, sign);
      add(out.quarterHour, [String(floorTo(row.createdAt, QUARTER_HOUR_MS))], signed(modelUsageSums(row), sign), row.durationMs, sign);
    }
    return out;
  }

  /** Each rollup's groups by id, with bucket counts of zero left out (a run in and out again leaves none). */
  const contents = (rollups: ExecutionRollupGroups) => Object.fromEntries(Object.entries(rollups).map(([name, groups]) => [name, Object.fromEntries(
    [...(groups as Groups)].map((g) => [g.id, { sums: g.sums, buckets: [...g.buckets].filter(([, n]) => n !== 0).sort(([a], [b]) => a - b) }]),
  )]));

  test("equal to adding every run to every rollup, across days, hours and quarter hours, with runs taken back out", () => {
    const random = rng(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const midnight = Date.UTC(2026, 10, 30);
    const runs: [RolledUpExecution, 1 | -1][] = [];
    for (let i = 0; i < 3000; i++) {
      const row: RolledUpExecution = {
        createdAt: midnight + Math.floor((random() - 0.5) * 6 * HOUR_MS), repo: pick(["acme/api", "acme/web", "a\u0000b"]), eventType: pick(["pr", "comment"]),
        provider: pick(["anthropic", "openai"]), model: pick(["m-a", "m-b", "m-c"]), conclusion: pick(["success", "failure", "error", "skipped"]),
        inputTokens: Math.floor(random() * 10_000), outputTokens: Math.floor(random() * 1_000), cacheReadTokens: Math.floor(random() * 50_000),
        cacheCreationTokens: Math.floor(random() * 2_000), costUsd: Math.floor(random() * 256) / 64, costSource: pick(["reported", "computed", "unpriced"] as const),
        durationMs: Math.floor(random() * 120_000),
      };
      runs.push([row, 1]);
      if (random() < 0.2) runs.push([row, -1]); // found stored already: taken back out
    }
    const summed = new RunGroups();
    for (const [row, sign] of runs) summed.add(row, sign);
    const folded = fiveRollups();
    summed.rollUp(folded);
    const reference = runByRun(runs);
    expect(contents(folded)).toEqual(contents(reference));
    expect(folded.daily.size).toBeGreaterThan(1); // the batch spans midnight
    expect(folded.quarterHour.size).toBe(24);
    expect(summed.size).toBe(0); // moved into the rollups: folding again adds nothing twice
    summed.rollUp(folded);
    expect(contents(folded)).toEqual(contents(reference));
  });
});
