/**
 * What summing a batch's runs into the five execution rollups costs the PostgreSQL writer's
 * client: every run added to each rollup on its own (write.ts up to Session 21) against the runs
 * summed once at their finest grain and folded into the rollups (`RunGroups`, Session 22).
 * Batches of RF_BATCH (5,000: the store's preferred write) `makeExecution` runs one second
 * apart, both ways alternated, median ms per batch of RF_ROUNDS rounds of 40 batches.
 *
 *   bun bench/rollup-fold.ts            # RF_BATCH=5000 RF_ROUNDS=7; results/rollup-fold.json
 */
import { floorTo, HOUR_MS, QUARTER_HOUR_MS } from "../src/core/time-units.ts";
import { add, Groups, modelUsageSums, RunGroups, usageSums, type ExecutionRollupGroups, type RolledUpExecution } from "../src/store/rollup-sums.ts";
import { utcDay } from "../src/store/sqlite/utc-day.ts";
import { envInt, machineInfo, machineLine, makeExecution, median, writeResults } from "./lib.ts";

const BATCH = envInt("RF_BATCH", 5000);
const ROUNDS = envInt("RF_ROUNDS", 7);
const BATCHES_PER_ROUND = 40;

const start = Date.UTC(2026, 10, 30, 23, 30);
const runs: RolledUpExecution[] = Array.from({ length: BATCH }, (_, i) => {
  const r = makeExecution(i, true);
  return {
    createdAt: start + i * 1000, repo: r.repo!, eventType: r.eventType!, provider: "anthropic", model: r.model, conclusion: r.conclusion!,
    inputTokens: r.inputTokens!, outputTokens: r.outputTokens!, cacheReadTokens: r.cacheReadTokens!, cacheCreationTokens: r.cacheCreationTokens!,
    costUsd: r.costUsd!, costSource: "reported", durationMs: r.durationMs!,
  };
});

const fiveRollups = (): ExecutionRollupGroups => ({ daily: new Groups(), hourly: new Groups(), dailyModel: new Groups(), hourlyModel: new Groups(), quarterHour: new Groups() });

/** Every run added to each rollup on its own. */
function runByRun(): ExecutionRollupGroups {
  const out = fiveRollups();
  for (const row of runs) {
    const day = utcDay(row.createdAt);
    const hour = String(floorTo(row.createdAt, HOUR_MS));
    const usage = usageSums(row);
    const model = modelUsageSums(row);
    add(out.daily, [day, row.repo, row.eventType, row.provider, row.model, row.conclusion], usage, row.durationMs);
    add(out.hourly, [hour, row.repo, row.eventType, row.provider, row.model, row.conclusion], [...usage], row.durationMs);
    add(out.dailyModel, [day, row.repo, row.provider, row.model], model, row.durationMs);
    add(out.hourlyModel, [hour, row.repo, row.provider, row.model], [...model], row.durationMs);
    add(out.quarterHour, [String(floorTo(row.createdAt, QUARTER_HOUR_MS))], [...model], row.durationMs);
  }
  return out;
}

/** The runs summed once at their finest grain, then folded. */
function folded(): ExecutionRollupGroups {
  const groups = new RunGroups();
  for (const row of runs) groups.add(row);
  const out = fiveRollups();
  groups.rollUp(out);
  return out;
}

const ways = { runByRun, folded };
const perBatch: Record<keyof typeof ways, number[]> = { runByRun: [], folded: [] };
let sink = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, way] of Object.entries(ways) as [keyof typeof ways, () => ExecutionRollupGroups][]) {
    const t0 = performance.now();
    for (let b = 0; b < BATCHES_PER_ROUND; b++) sink += way().daily.size;
    perBatch[name].push((performance.now() - t0) / BATCHES_PER_ROUND);
  }
}
const result = { runByRun: median(perBatch.runByRun), folded: median(perBatch.folded) };
console.log(machineLine(machineInfo()));
console.log(`${BATCH} runs per batch, median of ${ROUNDS} rounds: run by run ${result.runByRun.toFixed(2)} ms, folded ${result.folded.toFixed(2)} ms (${(result.runByRun / result.folded).toFixed(1)}×)${sink > 0 ? "" : " (nothing summed?)"}`);
console.log(`results: ${writeResults("rollup-fold", { batch: BATCH, rounds: ROUNDS, msPerBatch: result, samples: perBatch, machine: machineInfo() })}`);
