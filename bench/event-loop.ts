/**
 * Event-loop delay added by recording 10,000 records/s (a 10 ms setInterval recording 100
 * executions per tick) into a SQLite file, side by side with a baseline that runs the same
 * interval and builds the same 100 records but does not record them.
 *
 * Delay is measured with monitorEventLoopDelay from node:perf_hooks (resolution 10 ms by
 * default: the histogram holds how late each of its own 10 ms timer ticks fired), plus the
 * lateness of the bench's own 10 ms interval, plus the duration of every store.write() call
 * (the only synchronous work Tally does off the caller's path: one 50-row transaction, and
 * every 1000 rows a WAL checkpoint). Baseline and recording alternate in segments
 * (EL_ROUNDS segments each, EL_DURATION_S seconds per phase in total); tables show the
 * median over segments and the worst segment.
 *
 *   bun bench/event-loop.ts
 *   EL_DURATION_S=30 EL_ROUNDS=3 EL_RATE=10000 EL_RESOLUTION_MS=10 bun bench/event-loop.ts
 *   EL_CHECKPOINT_ROWS=0 bun bench/event-loop.ts   (what-if; writes results/event-loop-checkpoint-0.json)
 *   EL_BATCH_SIZE=500 bun bench/event-loop.ts      (what-if; writes results/event-loop-batch-500.json)
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { join } from "node:path";
import { createTelemetry, type Batch, type Store } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import {
  envInt, envNumber, fmt, ioPressure, loadNow, machineInfo, machineLine, makeExecution, max, median, percentile, sortedCopy, table,
  tempDir, writeResults,
} from "./lib.ts";

const DURATION_S = envNumber("EL_DURATION_S", 30);
const ROUNDS = envInt("EL_ROUNDS", 3);
const RATE = envInt("EL_RATE", 10_000);
const INTERVAL_MS = envInt("EL_INTERVAL_MS", 10);
const RESOLUTION_MS = envInt("EL_RESOLUTION_MS", 10);
/** What-if knob: the store's checkpointEveryRows (default 1000; 0 leaves checkpoints to SQLite's wal_autocheckpoint). */
const CHECKPOINT_ROWS = process.env.EL_CHECKPOINT_ROWS === undefined ? undefined : Number(process.env.EL_CHECKPOINT_ROWS);
/** What-if knob: createTelemetry's batchSize (default 50). */
const BATCH_SIZE = process.env.EL_BATCH_SIZE === undefined ? undefined : Number(process.env.EL_BATCH_SIZE);
const PER_TICK = Math.round((RATE * INTERVAL_MS) / 1000);
const SEGMENT_MS = (DURATION_S * 1000) / ROUNDS;

const machine = machineInfo();
const { dir, cleanup } = tempDir("event-loop");

const inner = openSqliteStore(
  CHECKPOINT_ROWS === undefined ? { path: join(dir, "tally.db") } : { path: join(dir, "tally.db"), checkpointEveryRows: CHECKPOINT_ROWS },
);
let writeTimes: number[] = [];
let checkpointTimes: number[] = [];
// The store checkpoints through its own object (every checkpointEveryRows rows, inside
// write()), so timing that method here separates checkpoints from plain batch commits.
const checkpoint = inner.checkpoint.bind(inner);
inner.checkpoint = () => {
  const t0 = Bun.nanoseconds();
  checkpoint();
  checkpointTimes.push((Bun.nanoseconds() - t0) / 1e6);
};
/** The real store, with each synchronous write timed. */
const store: Store = {
  write(batch: Batch) {
    const t0 = Bun.nanoseconds();
    const result = inner.write(batch);
    writeTimes.push((Bun.nanoseconds() - t0) / 1e6);
    return result;
  },
  purgeOlderThan: (days) => inner.purgeOlderThan(days),
  checkpoint: () => inner.checkpoint(),
  close: () => inner.close(),
};
const telemetry = createTelemetry(BATCH_SIZE === undefined ? { store, flushOnExit: false } : { store, flushOnExit: false, batchSize: BATCH_SIZE });

interface Segment {
  phase: "baseline" | "recording";
  seconds: number;
  records: number;
  ticks: number;
  eld: { count: number; p50: number; p99: number; max: number; mean: number };
  lateness: { p50: number; p99: number; max: number };
  writes: { count: number; p50: number; p99: number; max: number; totalMs: number };
  checkpoints: { count: number; p50: number; p99: number; max: number; totalMs: number };
}

let sequence = 0;
function runSegment(phase: Segment["phase"]): Promise<Segment> {
  return new Promise((resolve) => {
    writeTimes = [];
    checkpointTimes = [];
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    const late: number[] = [];
    let records = 0;
    let ticks = 0;
    let sink = 0;
    const t0 = performance.now();
    let last = t0;
    histogram.enable();
    const timer = setInterval(() => {
      const now = performance.now();
      late.push(Math.max(0, now - last - INTERVAL_MS));
      last = now;
      ticks++;
      for (let k = 0; k < PER_TICK; k++) {
        const record = makeExecution(sequence++, true);
        if (phase === "recording") telemetry.recordExecution(record);
        else sink += record.inputTokens!;
      }
      records += PER_TICK;
      if (now - t0 >= SEGMENT_MS) {
        clearInterval(timer);
        histogram.disable();
        void sink;
        const seconds = (performance.now() - t0) / 1000;
        const lateSorted = sortedCopy(late.slice(1));
        const writesSorted = sortedCopy(writeTimes);
        const checkpointsSorted = sortedCopy(checkpointTimes);
        const ms = (ns: number) => ns / 1e6;
        resolve({
          phase,
          seconds,
          records: phase === "recording" ? records : 0,
          ticks,
          eld: {
            count: histogram.count,
            p50: ms(histogram.percentile(50)),
            p99: ms(histogram.percentile(99)),
            max: ms(histogram.max),
            mean: ms(histogram.mean),
          },
          lateness: { p50: percentile(lateSorted, 50), p99: percentile(lateSorted, 99), max: lateSorted[lateSorted.length - 1] ?? 0 },
          writes: {
            count: writesSorted.length,
            p50: percentile(writesSorted, 50),
            p99: percentile(writesSorted, 99),
            max: writesSorted[writesSorted.length - 1] ?? 0,
            totalMs: writeTimes.reduce((a, b) => a + b, 0),
          },
          checkpoints: {
            count: checkpointsSorted.length,
            p50: percentile(checkpointsSorted, 50),
            p99: percentile(checkpointsSorted, 99),
            max: checkpointsSorted[checkpointsSorted.length - 1] ?? 0,
            totalMs: checkpointTimes.reduce((a, b) => a + b, 0),
          },
        });
      }
    }, INTERVAL_MS);
  });
}

console.error(`event-loop: ${RATE} records/s (${PER_TICK} every ${INTERVAL_MS} ms), ${DURATION_S} s per phase in ${ROUNDS} alternating segments, resolution ${RESOLUTION_MS} ms`);
// Warm-up: a short recording segment, not counted (JIT, page cache, first checkpoint).
{
  const warm = setInterval(() => {
    for (let k = 0; k < PER_TICK; k++) telemetry.recordExecution(makeExecution(sequence++, true));
  }, INTERVAL_MS);
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(warm);
  await telemetry.flush();
}

const segments: Segment[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which phase goes first, so drift in machine load hits both alike.
  const order: Segment["phase"][] = round % 2 === 0 ? ["baseline", "recording"] : ["recording", "baseline"];
  for (const phase of order) {
    segments.push(await runSegment(phase));
    await telemetry.flush();
    console.error(`  ${phase} segment ${round + 1}/${ROUNDS} done`);
  }
}
await telemetry.flush();
const stats = telemetry.stats();
await telemetry.shutdown();
cleanup();
const loadAtEnd = loadNow();

function summary(phase: Segment["phase"]) {
  const list = segments.filter((s) => s.phase === phase);
  const med = (f: (s: Segment) => number) => median(list.map(f));
  const worst = (f: (s: Segment) => number) => max(list.map(f));
  return {
    eldP50: med((s) => s.eld.p50), eldP99: med((s) => s.eld.p99), eldMax: med((s) => s.eld.max), eldMean: med((s) => s.eld.mean),
    eldP99Worst: worst((s) => s.eld.p99), eldMaxWorst: worst((s) => s.eld.max),
    lateP50: med((s) => s.lateness.p50), lateP99: med((s) => s.lateness.p99), lateMax: worst((s) => s.lateness.max),
    writesP50: med((s) => s.writes.p50), writesP99: med((s) => s.writes.p99), writesMax: worst((s) => s.writes.max),
    writeMsPerSecond: med((s) => s.writes.totalMs / s.seconds),
    checkpointsP50: med((s) => s.checkpoints.p50), checkpointsMax: worst((s) => s.checkpoints.max),
    checkpointMsPerSecond: med((s) => s.checkpoints.totalMs / s.seconds),
    checkpointsPerSecond: med((s) => s.checkpoints.count / s.seconds),
    recordsPerSecond: med((s) => s.records / s.seconds),
  };
}
const base = summary("baseline");
const rec = summary("recording");
const f2 = (v: number) => fmt(v, 2);
const rows = [
  ["baseline (same interval, records built, not recorded)", f2(base.eldP50), f2(base.eldP99), f2(base.eldMax), f2(base.eldP99Worst), f2(base.lateP99), f2(base.lateMax), "—", "—"],
  [`recording ${fmt(rec.recordsPerSecond, 0)} records/s`, f2(rec.eldP50), f2(rec.eldP99), f2(rec.eldMax), f2(rec.eldP99Worst), f2(rec.lateP99), f2(rec.lateMax),
    `${f2(rec.writesP50)} / ${f2(rec.writesP99)} / ${f2(rec.writesMax)}`, fmt(rec.writeMsPerSecond, 1)],
  ["added (recording − baseline)", f2(rec.eldP50 - base.eldP50), f2(rec.eldP99 - base.eldP99), f2(rec.eldMax - base.eldMax), f2(rec.eldP99Worst - base.eldP99Worst),
    f2(rec.lateP99 - base.lateP99), f2(rec.lateMax - base.lateMax), "", ""],
];
const goal = rec.eldP99 <= 5;
const markdown = [
  `## event-loop: delay while recording ${fmt(RATE, 0)} records/s`,
  ``,
  machineLine(machine) + `; loadavg at end ${loadAtEnd.join(" ")}, I/O pressure at end ${ioPressure() ?? "n/a"}%`,
  `${DURATION_S} s per phase in ${ROUNDS} alternating segments; monitorEventLoopDelay resolution ${RESOLUTION_MS} ms; ${PER_TICK} records every ${INTERVAL_MS} ms; batchSize ${BATCH_SIZE ?? "50 (default)"}. ms; medians over segments ("worst" = worst segment).`,
  ``,
  table(
    ["phase", "ELD p50", "ELD p99", "ELD max", "ELD p99 worst", "interval late p99", "interval late max", "store.write p50 / p99 / max", "write ms per s"],
    rows,
  ),
  ``,
  `Inside store.write: ${fmt(rec.checkpointsPerSecond, 1)} explicit WAL checkpoints/s (checkpointEveryRows ${CHECKPOINT_ROWS ?? "1000, the default"}), p50 ${f2(rec.checkpointsP50)} ms, max ${f2(rec.checkpointsMax)} ms, ` +
    `${fmt(rec.checkpointMsPerSecond, 1)} of the ${fmt(rec.writeMsPerSecond, 1)} write ms per second.`,
  `Note: Tally's flush starts right after the recording tick, so a write of w ms delays the next 10 ms tick by only about w − 10 ms; ` +
    `a request arriving at a random moment can wait up to the full store.write time (max ${f2(rec.writesMax)} ms).`,
  `Goal ELD p99 ≤ 5 ms while recording: ${goal ? "MET" : "MISSED"} (${f2(rec.eldP99)} ms; worst segment ${f2(rec.eldP99Worst)} ms).`,
  `Telemetry stats: written=${stats.written}, queueFull=${stats.dropped.queueFull}, writeFailed=${stats.dropped.writeFailed}, flushes=${stats.flushes}.`,
].join("\n");
console.log(markdown);

const variantName = [CHECKPOINT_ROWS === undefined ? "" : `-checkpoint-${CHECKPOINT_ROWS}`, BATCH_SIZE === undefined ? "" : `-batch-${BATCH_SIZE}`].join("");
const path = writeResults(`event-loop${variantName}`, {
  bench: "event-loop",
  date: new Date().toISOString(),
  command: "bun bench/event-loop.ts",
  params: { DURATION_S, ROUNDS, RATE, INTERVAL_MS, RESOLUTION_MS, PER_TICK, CHECKPOINT_ROWS: CHECKPOINT_ROWS ?? null, BATCH_SIZE: BATCH_SIZE ?? null },
  machine: { ...machine, loadavgAtEnd: loadAtEnd },
  baseline: base,
  recording: rec,
  segments,
  goals: { eldP99AtMost5ms: goal },
  stats,
  markdown,
});
console.error(`wrote ${path}`);
