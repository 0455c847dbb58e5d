/**
 * Peak memory for a synchronous burst of 1,000,000 recordExecution calls (each a fresh
 * record object), with the default maxQueueSize 10000 and with 100000: memory follows
 * maxQueueSize, not the number of calls, because beyond it records are dropped and counted
 * (stats().dropped.queueFull). Two references run the same burst without Tally: the records
 * kept in an unbounded array (what an unbounded queue would hold), and the records created
 * and discarded (allocation churn only).
 *
 * Each variant and round runs in its own child process (`bun bench/memory.ts --child <variant>`),
 * so RSS high-water marks do not carry over. In the child: open the store and telemetry,
 * Bun.gc(true), read the baseline; run the burst, sampling process.memoryUsage() every
 * 10,000 calls (a synchronous burst gives timers no chance to run); read stats(); Bun.gc(true)
 * and read what the full queue retains; then `await flush()` into a SQLite file while a 5 ms
 * timer samples, and read again after a final Bun.gc(true). Tables show medians over rounds.
 *
 *   bun bench/memory.ts
 *   MEM_CALLS=1000000 MEM_ROUNDS=3 bun bench/memory.ts
 */
import { join } from "node:path";
import { createTelemetry, type ExecutionRecord, type TelemetryStats } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { envInt, fmt, loadNow, machineInfo, machineLine, makeExecution, median, mib, table, tempDir, writeResults } from "./lib.ts";

const CALLS = envInt("MEM_CALLS", 1_000_000);
const ROUNDS = envInt("MEM_ROUNDS", 3);
const SAMPLE_EVERY = 10_000;

const VARIANTS = {
  q10k: { label: "Tally, maxQueueSize 10000 (default)", maxQueueSize: 10_000 },
  q100k: { label: "Tally, maxQueueSize 100000", maxQueueSize: 100_000 },
  unbounded: { label: "reference: every record kept in an array (unbounded queue)", maxQueueSize: 0 },
  garbage: { label: "reference: records built and discarded (allocation churn only)", maxQueueSize: 0 },
} as const;
type VariantName = keyof typeof VARIANTS;

interface Sample {
  rss: number;
  heapUsed: number;
}
interface ChildResult {
  variant: VariantName;
  baseline: Sample;
  peakDuringBurst: Sample;
  afterBurst: Sample;
  retainedAfterGc: Sample;
  peakDuringFlush: Sample;
  afterFlushGc: Sample;
  burstMs: number;
  flushMs: number;
  stats: TelemetryStats | null;
}

function sample(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}
function peak(into: Sample, s: Sample): void {
  into.rss = Math.max(into.rss, s.rss);
  into.heapUsed = Math.max(into.heapUsed, s.heapUsed);
}
function fullGc(): void {
  Bun.gc(true);
  Bun.gc(true);
}

async function child(variant: VariantName): Promise<ChildResult> {
  const { dir, cleanup } = tempDir("memory");
  const { maxQueueSize } = VARIANTS[variant];
  const store = maxQueueSize > 0 ? openSqliteStore({ path: join(dir, "tally.db") }) : null;
  const telemetry = store ? createTelemetry({ store, maxQueueSize, flushOnExit: false }) : null;
  const kept: ExecutionRecord[] = [];
  let sink = 0;

  fullGc();
  const baseline = sample();
  const peakDuringBurst = { ...baseline };
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const record = makeExecution(i, true);
    if (telemetry) telemetry.recordExecution(record);
    else if (variant === "unbounded") kept.push(record);
    else sink += record.inputTokens!;
    if (i % SAMPLE_EVERY === SAMPLE_EVERY - 1) peak(peakDuringBurst, sample());
  }
  const burstMs = performance.now() - t0;
  const afterBurst = sample();
  peak(peakDuringBurst, afterBurst);
  const stats = telemetry?.stats() ?? null;
  fullGc();
  const retainedAfterGc = sample();
  // Bun's heapUsed can lag allocation between collections; the post-GC reading is a floor for the peak.
  peak(peakDuringBurst, retainedAfterGc);

  const peakDuringFlush = { ...retainedAfterGc };
  const sampler = setInterval(() => peak(peakDuringFlush, sample()), 5);
  const t1 = performance.now();
  if (telemetry) await telemetry.flush();
  const flushMs = performance.now() - t1;
  clearInterval(sampler);
  peak(peakDuringFlush, sample());
  if (telemetry) await telemetry.shutdown();
  void sink;
  void kept.length;
  fullGc();
  const afterFlushGc = sample();
  cleanup();
  return { variant, baseline, peakDuringBurst, afterBurst, retainedAfterGc, peakDuringFlush, afterFlushGc, burstMs, flushMs, stats };
}

if (process.argv[2] === "--child") {
  const result = await child(process.argv[3] as VariantName);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- parent ----------------------------------------------------------------------------------
const machine = machineInfo();
const ORDER = Object.keys(VARIANTS) as VariantName[];
const results = Object.fromEntries(ORDER.map((v) => [v, [] as ChildResult[]])) as Record<VariantName, ChildResult[]>;
console.error(`memory: ${CALLS} calls per burst, ${ROUNDS} rounds, each variant in its own child process`);
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of ORDER) {
    const proc = Bun.spawnSync([process.execPath, import.meta.path, "--child", variant], {
      env: process.env,
      stdout: "pipe",
      stderr: "inherit",
    });
    if (proc.exitCode !== 0) throw new Error(`child ${variant} exited with ${proc.exitCode}`);
    const line = proc.stdout.toString().trim().split("\n").at(-1)!;
    results[variant].push(JSON.parse(line) as ChildResult);
  }
  console.error(`  round ${round + 1}/${ROUNDS} done`);
}
const loadAtEnd = loadNow();

const med = (v: VariantName, f: (r: ChildResult) => number) => median(results[v].map(f));
function summarise(v: VariantName) {
  return {
    baselineRssMiB: med(v, (r) => mib(r.baseline.rss)),
    baselineHeapMiB: med(v, (r) => mib(r.baseline.heapUsed)),
    burstPeakRssDeltaMiB: med(v, (r) => mib(r.peakDuringBurst.rss - r.baseline.rss)),
    burstPeakHeapDeltaMiB: med(v, (r) => mib(r.peakDuringBurst.heapUsed - r.baseline.heapUsed)),
    retainedHeapDeltaMiB: med(v, (r) => mib(r.retainedAfterGc.heapUsed - r.baseline.heapUsed)),
    flushPeakRssDeltaMiB: med(v, (r) => mib(Math.max(r.peakDuringFlush.rss, r.peakDuringBurst.rss) - r.baseline.rss)),
    afterFlushHeapDeltaMiB: med(v, (r) => mib(r.afterFlushGc.heapUsed - r.baseline.heapUsed)),
    burstMs: med(v, (r) => r.burstMs),
    flushMs: med(v, (r) => r.flushMs),
    queued: med(v, (r) => r.stats?.queued ?? (v === "unbounded" ? CALLS : 0)),
    queueFull: med(v, (r) => r.stats?.dropped.queueFull ?? 0),
    written: med(v, (r) => (r.stats ? r.stats.written : 0)),
  };
}
const summary = Object.fromEntries(ORDER.map((v) => [v, summarise(v)])) as Record<VariantName, ReturnType<typeof summarise>>;

const rows = ORDER.map((v) => {
  const s = summary[v];
  const perRecord = s.queued > 0 ? `${fmt((s.retainedHeapDeltaMiB * 2 ** 20) / s.queued, 0)} B` : "—";
  return [
    VARIANTS[v].label,
    fmt(s.baselineRssMiB, 1),
    fmt(s.burstPeakRssDeltaMiB, 1),
    fmt(s.burstPeakHeapDeltaMiB, 1),
    fmt(s.retainedHeapDeltaMiB, 1),
    fmt(s.flushPeakRssDeltaMiB, 1),
    fmt(s.afterFlushHeapDeltaMiB, 1),
    fmt(s.queued, 0),
    fmt(s.queueFull, 0),
    perRecord,
    fmt(s.burstMs, 0),
    v.startsWith("q") ? fmt(s.flushMs, 0) : "—",
  ];
});
const q10 = summary.q10k;
const q100 = summary.q100k;
const unb = summary.unbounded;
const bounded = q10.retainedHeapDeltaMiB < q100.retainedHeapDeltaMiB && q100.retainedHeapDeltaMiB < unb.retainedHeapDeltaMiB && q10.queueFull === CALLS - 10_000;
const markdown = [
  `## memory: a burst of ${fmt(CALLS, 0)} record calls`,
  ``,
  machineLine(machine) + `; loadavg at end ${loadAtEnd.join(" ")}`,
  `${ROUNDS} rounds, one child process per variant and round; MiB; deltas against the baseline read after Bun.gc(true); medians over rounds.`,
  ``,
  table(
    ["variant", "baseline RSS", "burst peak ΔRSS", "burst peak ΔheapUsed", "retained ΔheapUsed after GC (queue full)", "peak ΔRSS incl. flush", "ΔheapUsed after flush + GC", "queued", "dropped queueFull", "heap per queued record", "burst ms", "flush ms"],
    rows,
  ),
  ``,
  `Retained heap: q10k ${fmt(q10.retainedHeapDeltaMiB, 1)} MiB, q100k ${fmt(q100.retainedHeapDeltaMiB, 1)} MiB (${fmt(q100.retainedHeapDeltaMiB / q10.retainedHeapDeltaMiB, 1)}× for 10× the queue), ` +
    `unbounded ${fmt(unb.retainedHeapDeltaMiB, 1)} MiB. Memory bounded by maxQueueSize, not by calls: ${bounded ? "SHOWN" : "NOT SHOWN"}.`,
].join("\n");
console.log(markdown);

const out = writeResults("memory", {
  bench: "memory",
  date: new Date().toISOString(),
  command: "bun bench/memory.ts",
  params: { CALLS, ROUNDS, SAMPLE_EVERY },
  machine: { ...machine, loadavgAtEnd: loadAtEnd },
  labels: Object.fromEntries(ORDER.map((v) => [v, VARIANTS[v].label])),
  summary,
  runs: results,
  goals: { boundedByMaxQueueSize: bounded },
  markdown,
});
console.error(`wrote ${out}`);
