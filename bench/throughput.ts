/**
 * Sustained records/s through createTelemetry into a SQLite file, side by side with raw
 * bun:sqlite batched inserts into the same schema.
 *
 * Tally variants: a producer records executions in chunks of 500 whenever the queue has
 * room (default maxQueueSize 10000, so nothing is dropped) and yields the event loop after
 * each chunk; the clock runs from the first record to the end of `await flush()`. With
 * costUsd set, and with costUsd absent (Tally prices every row).
 * "store.write() directly": Tally's SQL (every rollup the writer keeps, its checkpoints) on
 * batches of 50 rows the bench builds itself: no queue, validation or flush loop.
 * Raw variants: the same rows (same generator, a UUIDv7 id and Date.now() per row, as Tally
 * makes them) inserted with one prepared INSERT in BEGIN IMMEDIATE … COMMIT transactions of
 * 50 or 1000 rows, into a file whose schema was made by openSqliteStore; "+ daily_usage
 * upsert" also sums the batch per (day, repo, event, provider, model, conclusion) and upserts
 * daily_usage in the same transaction (the rollup Tally's writer had when this bench was
 * written; the writer now keeps more, which the store.write() line measures).
 * TP_WHATIF=1 adds: raw 1000 rows/tx + daily_usage upsert, a burst (maxQueueSize=N, record
 * all, then flush), the schema with its CHECK IN-lists written as OR, checkpointEveryRows=0,
 * and batchSize 500. TP_ONLY=a,b picks variants by name (e.g. under `bun --cpu-prof`).
 * Every variant writes a fresh file; variants run interleaved in a rotating order; the
 * table shows the median of the rounds.
 *
 *   bun bench/throughput.ts
 *   TP_N=500000 TP_ROUNDS=3 bun bench/throughput.ts
 *   TP_WHATIF=1 bun bench/throughput.ts     (adds what-if variants; writes results/throughput-whatif.json)
 */
import type { Database, Statement } from "bun:sqlite";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { uuidv7 } from "uuidv7";
import { createTelemetry, type ExecutionRow, type StoredRecord } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import {
  envInt, fmt, freshSchemaFile, INSERT_EXECUTION, loadNow, machineInfo, machineLine, makeExecution, max, median, mib, min,
  nextTurn, openRaw, orCheckSchemaFile, ratio, table, tempDir, UPSERT_DAILY_USAGE, writeResults,
} from "./lib.ts";


const N = envInt("TP_N", 200_000);
const ROUNDS = envInt("TP_ROUNDS", 3);
const CHUNK = envInt("TP_CHUNK", 500);
const MAX_QUEUE = 10_000;
/** TP_WHATIF=1 adds the what-if variants (changed schema, no explicit checkpoints). */
const WHATIF = process.env.TP_WHATIF === "1";
/** TP_ONLY=tallyCost,raw50Rollup runs only those variants (e.g. under `bun --cpu-prof`). */
const ONLY = process.env.TP_ONLY?.split(",").filter(Boolean);

const machine = machineInfo();
const { dir, cleanup } = tempDir("throughput");

interface RunResult {
  seconds: number;
  rowsPerSecond: number;
  rows: number;
  fileMiB: number;
  extra?: Record<string, unknown>;
}

function countRows(db: Database): { executions: number; runs: number } {
  const executions = Number((db.query("select count(*) as n from executions").get() as { n: number }).n);
  const runs = Number((db.query("select coalesce(sum(runs), 0) as n from daily_usage").get() as { n: number }).n);
  return { executions, runs };
}

function fileSize(path: string): number {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no WAL file
    }
  }
  return mib(total);
}

async function tally(path: string, n: number, withCost: boolean, burst: boolean, orChecks = false, checkpointEveryRows?: number, batchSize = 50): Promise<RunResult> {
  if (orChecks) orCheckSchemaFile(dir, path.slice(dir.length + 1));
  const store = openSqliteStore(checkpointEveryRows === undefined ? { path } : { path, checkpointEveryRows });
  const telemetry = createTelemetry({ store, flushOnExit: false, maxQueueSize: burst ? n : MAX_QUEUE, batchSize });
  const t0 = Bun.nanoseconds();
  if (burst) {
    for (let i = 0; i < n; i++) telemetry.recordExecution(makeExecution(i, withCost));
  } else {
    let i = 0;
    while (i < n) {
      if (MAX_QUEUE - telemetry.stats().queued >= CHUNK) {
        const end = Math.min(n, i + CHUNK);
        for (; i < end; i++) telemetry.recordExecution(makeExecution(i, withCost));
      }
      await nextTurn();
    }
  }
  await telemetry.flush();
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  const stats = telemetry.stats();
  await telemetry.shutdown();
  const db = openRaw(path);
  const counted = countRows(db);
  db.close();
  if (counted.executions !== n || stats.written !== n) {
    console.error(`  warning: ${path}: ${counted.executions} rows, stats ${JSON.stringify(stats)}`);
  }
  return { seconds, rowsPerSecond: n / seconds, rows: counted.executions, fileMiB: fileSize(path), extra: { stats, rollupRuns: counted.runs } };
}

const DAY_MS = 86_400_000;
const dayCache = new Map<number, string>();
function utcDay(ms: number): string {
  const n = Math.floor(ms / DAY_MS);
  let day = dayCache.get(n);
  if (day === undefined) dayCache.set(n, (day = new Date(n * DAY_MS).toISOString().slice(0, 10)));
  return day;
}

interface Group {
  key: string[];
  sums: number[];
}

/** Like Tally's writer: one upsert per (day, repo, event, provider, model, conclusion) group of the batch. */
function rawBatch(db: Database, insert: Statement, upsert: Statement | null, start: number, count: number): number {
  db.exec("BEGIN IMMEDIATE");
  const groups = upsert ? new Map<string, Group>() : null;
  for (let i = start; i < start + count; i++) {
    const r = makeExecution(i, true);
    const now = Date.now();
    insert.run(uuidv7(), now, r.deliveryId!, r.repo!, r.prNumber!, r.eventType!, "anthropic", r.model,
      r.inputTokens!, r.outputTokens!, r.cacheReadTokens!, r.cacheCreationTokens!, r.durationMs!, r.costUsd!, "reported",
      r.conclusion, r.sessionId!, r.numTurns!, r.stopReason!, null);
    if (groups) {
      const day = utcDay(now);
      const id = `${day}\u0000${r.repo}\u0000${r.eventType}\u0000anthropic\u0000${r.model}\u0000${r.conclusion}`;
      const values = [1, r.inputTokens!, r.outputTokens!, r.cacheReadTokens!, r.cacheCreationTokens!, r.costUsd!, 0, r.durationMs!];
      const g = groups.get(id);
      if (g === undefined) groups.set(id, { key: [day, r.repo!, r.eventType!, "anthropic", r.model, r.conclusion], sums: values });
      else for (let k = 0; k < values.length; k++) g.sums[k]! += values[k]!;
    }
  }
  if (groups) for (const g of groups.values()) upsert!.run(...g.key, ...g.sums);
  db.exec("COMMIT");
  return groups?.size ?? 0;
}

/**
 * Tally's own SQL without Tally's pipeline: the bench builds execution rows (UUIDv7 id,
 * Date.now(), the same fields) in batches of 50 and calls the store's write() directly, so
 * the difference to the Tally variants is the queue, validation and flush loop, and the
 * difference to the raw variants is the store's SQL (rollups included) and its checkpoints.
 */
async function storeWrite(path: string, n: number, perBatch: number): Promise<RunResult> {
  const store = openSqliteStore({ path });
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i += perBatch) {
    const batch: StoredRecord[] = [];
    for (let j = i; j < Math.min(n, i + perBatch); j++) {
      const r = makeExecution(j, true);
      const row: ExecutionRow = {
        id: uuidv7(), createdAt: Date.now(), deliveryId: r.deliveryId!, repo: r.repo!, prNumber: r.prNumber!, eventType: r.eventType!,
        provider: "anthropic", model: r.model, inputTokens: r.inputTokens!, outputTokens: r.outputTokens!,
        cacheReadTokens: r.cacheReadTokens!, cacheCreationTokens: r.cacheCreationTokens!, durationMs: r.durationMs!,
        costUsd: r.costUsd!, costSource: "reported", conclusion: r.conclusion, sessionId: r.sessionId!, numTurns: r.numTurns!,
        stopReason: r.stopReason!, attributes: null,
      };
      batch.push({ kind: "execution", row });
    }
    const result = store.write(batch);
    if (!result.ok) throw result.error;
  }
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  store.close();
  const db = openRaw(path);
  const counted = countRows(db);
  db.close();
  return { seconds, rowsPerSecond: n / seconds, rows: counted.executions, fileMiB: fileSize(path), extra: { rollupRuns: counted.runs } };
}

async function raw(path: string, n: number, perTx: number, rollup: boolean, orChecks = false): Promise<RunResult> {
  if (orChecks) orCheckSchemaFile(dir, path.slice(dir.length + 1));
  else freshSchemaFile(dir, path.slice(dir.length + 1));
  const db = openRaw(path);
  const insert = db.prepare(INSERT_EXECUTION);
  const upsert = rollup ? db.prepare(UPSERT_DAILY_USAGE) : null;
  let groups = 0;
  let batches = 0;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i += perTx) {
    groups += rawBatch(db, insert, upsert, i, Math.min(perTx, n - i));
    batches++;
  }
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  const counted = countRows(db);
  db.close();
  return {
    seconds, rowsPerSecond: n / seconds, rows: counted.executions, fileMiB: fileSize(path),
    extra: { rollupUpsertsPerBatch: rollup ? groups / batches : 0, rollupRuns: counted.runs },
  };
}

const VARIANTS = {
  tallyCost: { label: "Tally createTelemetry → SQLite, costUsd reported", run: (p: string, n: number) => tally(p, n, true, false) },
  tallyPriced: { label: "Tally, costUsd absent (Tally prices every row)", run: (p: string, n: number) => tally(p, n, false, false) },
  tallyBurst: { label: `Tally, burst: maxQueueSize=N, record all, then flush (costUsd reported)`, run: (p: string, n: number) => tally(p, n, true, true) },
  storeWrite: { label: "Tally's store.write() called directly, 50-row batches (Tally's SQL: all rollups, checkpoints)", run: (p: string, n: number) => storeWrite(p, n, 50) },
  raw50: { label: "raw bun:sqlite, 50 rows/tx, INSERT only", run: (p: string, n: number) => raw(p, n, 50, false) },
  raw50Rollup: { label: "raw bun:sqlite, 50 rows/tx + daily_usage upsert per batch", run: (p: string, n: number) => raw(p, n, 50, true) },
  raw1000: { label: "raw bun:sqlite, 1000 rows/tx, INSERT only", run: (p: string, n: number) => raw(p, n, 1000, false) },
  raw1000Rollup: { label: "raw bun:sqlite, 1000 rows/tx + daily_usage upsert per batch", run: (p: string, n: number) => raw(p, n, 1000, true) },
  tallyCostOr: { label: "what-if: Tally (costUsd reported), CHECK IN-lists written as OR", run: (p: string, n: number) => tally(p, n, true, false, true) },
  raw50RollupOr: { label: "what-if: raw 50/tx + daily_usage upsert, CHECK IN-lists written as OR", run: (p: string, n: number) => raw(p, n, 50, true, true) },
  tallyBatch500: { label: "what-if: Tally (costUsd reported), batchSize 500", run: (p: string, n: number) => tally(p, n, true, false, false, undefined, 500) },
  tallyNoCheckpoint: { label: "what-if: Tally (costUsd reported), checkpointEveryRows=0 (SQLite auto-checkpoint only)", run: (p: string, n: number) => tally(p, n, true, false, false, 0) },
} as const;
type VariantName = keyof typeof VARIANTS;
// raw1000Rollup is here too, only to keep the default run under ~2 minutes on 2 busy cores.
const WHATIF_VARIANTS: VariantName[] = ["raw1000Rollup", "tallyBurst", "tallyCostOr", "raw50RollupOr", "tallyNoCheckpoint", "tallyBatch500"];
const ORDER = (Object.keys(VARIANTS) as VariantName[]).filter((v) =>
  ONLY ? ONLY.includes(v) : WHATIF || !WHATIF_VARIANTS.includes(v));

const results = Object.fromEntries((Object.keys(VARIANTS) as VariantName[]).map((v) => [v, [] as RunResult[]])) as Record<VariantName, RunResult[]>;
const started = Date.now();
console.error(`throughput: N=${N}, ${ROUNDS} rounds (+ a small warm-up), variants interleaved`);

const WARM_N = Math.max(1_000, Math.floor(N / 10));
for (let round = -1; round < ROUNDS; round++) {
  // Round -1 warms up JIT, page cache and price tables with a tenth of the rows; not counted.
  const order = ORDER.map((_, i) => ORDER[(i + Math.max(0, round)) % ORDER.length]!);
  for (const name of order) {
    const path = join(dir, `${name}-${round}.db`);
    const result = await VARIANTS[name].run(path, round < 0 ? WARM_N : N);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    if (round >= 0) results[name].push(result);
  }
  console.error(`  round ${round < 0 ? "warm-up" : round + 1} done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

cleanup();
const loadAtEnd = loadNow();

const med = (name: VariantName) => median(results[name].map((r) => r.rowsPerSecond));
const summary = Object.fromEntries(
  (Object.keys(VARIANTS) as VariantName[]).map((v) => [v, {
    median: med(v),
    min: min(results[v].map((r) => r.rowsPerSecond)),
    max: max(results[v].map((r) => r.rowsPerSecond)),
    seconds: median(results[v].map((r) => r.seconds)),
    fileMiB: median(results[v].map((r) => r.fileMiB)),
  }]),
) as Record<VariantName, { median: number; min: number; max: number; seconds: number; fileMiB: number }>;

const base50 = summary.raw50.median;
const base50Rollup = summary.raw50Rollup.median;
const baseStore = summary.storeWrite.median;
const rows = ORDER.map((v) => [
  VARIANTS[v].label,
  fmt(summary[v].median, 0),
  `${fmt(summary[v].min, 0)} – ${fmt(summary[v].max, 0)}`,
  fmt(summary[v].seconds, 2),
  ratio(summary[v].median / base50),
  ratio(summary[v].median / base50Rollup),
  ratio(summary[v].median / baseStore),
]);
const goalCostPlain = summary.tallyCost.median / base50;
const goalCost = summary.tallyCost.median / base50Rollup;
const pipeline = summary.tallyCost.median / baseStore;
const goalPriced = summary.tallyPriced.median / base50;
const groupsPerBatch = median(results.raw50Rollup.map((r) => Number(r.extra?.rollupUpsertsPerBatch ?? 0)));
const tallyStats = results.tallyCost.at(-1)?.extra?.stats;

const markdown = [
  `## throughput: sustained records/s into SQLite`,
  ``,
  machineLine(machine) + `; loadavg at end ${loadAtEnd.join(" ")}`,
  `N=${N} executions per run, ${ROUNDS} rounds (medians; min – max over rounds), fresh file per run. "+ daily_usage upsert": ${fmt(groupsPerBatch, 1)} group upserts per 50-row batch.`,
  ``,
  table(["variant", "rows/s (median)", "range", "s", "÷ raw 50/tx", "÷ raw 50/tx + daily_usage", "÷ store.write direct"], rows),
  ``,
  `Goal ≥ 0.7× the raw limit. Tally (costUsd reported) = ${ratio(goalCostPlain)} of raw 50/tx INSERT-only ` +
    `(${goalCostPlain >= 0.7 ? "MET" : "MISSED"}), ${ratio(goalCost)} of raw 50/tx + daily_usage upsert ` +
    `(${goalCost >= 0.7 ? "MET" : "MISSED"}), ${ratio(summary.tallyCost.median / summary.raw1000.median)} of raw 1000/tx; ` +
    `${ratio(pipeline)} of Tally's own store.write() on ready-made batches (queue + validation + ids + flush loop overhead; ${pipeline >= 0.7 ? "MET" : "MISSED"}). ` +
    `Pricing path: ${ratio(goalPriced)} of raw 50/tx, ${ratio(summary.tallyPriced.median / summary.tallyCost.median)} of costUsd reported.`,
  ...(WHATIF
    ? [
      `What-if, schema with the CHECK IN-lists written as OR: Tally ${ratio(summary.tallyCostOr.median / summary.tallyCost.median)} of today's Tally; ` +
        `raw 50/tx + daily_usage ${ratio(summary.raw50RollupOr.median / summary.raw50Rollup.median)} of the same on today's schema. ` +
        `No explicit checkpoints (checkpointEveryRows=0): ${ratio(summary.tallyNoCheckpoint.median / summary.tallyCost.median)} of today's Tally. ` +
        `Burst (maxQueueSize=N, record all, then flush): ${ratio(summary.tallyBurst.median / summary.tallyCost.median)} of the paced producer. ` +
        `batchSize 500: ${ratio(summary.tallyBatch500.median / summary.tallyCost.median)} of batchSize 50.`,
    ]
    : []),
  `Last Tally run's stats: ${JSON.stringify(tallyStats)}`,
].join("\n");
console.log(markdown);

// Partial or what-if runs get their own file, so they never overwrite the default run's results.
const out = writeResults(WHATIF ? "throughput-whatif" : ONLY ? "throughput-only" : "throughput", {
  bench: "throughput",
  date: new Date().toISOString(),
  command: "bun bench/throughput.ts",
  params: { N, ROUNDS, CHUNK, MAX_QUEUE, WHATIF, ONLY: ONLY ?? null },
  machine: { ...machine, loadavgAtEnd: loadAtEnd },
  labels: Object.fromEntries(ORDER.map((v) => [v, VARIANTS[v].label])),
  summary,
  runs: results,
  ratios: { tallyCostOverRaw50: goalCostPlain, tallyCostOverRaw50DailyUsage: goalCost, tallyCostOverStoreWrite: pipeline, tallyPricedOverRaw50: goalPriced },
  goals: { atLeast70PercentOfRaw50InsertOnly: goalCostPlain >= 0.7, atLeast70PercentOfRaw50DailyUsage: goalCost >= 0.7, pipelineAtLeast70PercentOfStoreWrite: pipeline >= 0.7 },
  markdown,
});
console.error(`wrote ${out}`);
