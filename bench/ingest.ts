/**
 * What `tally serve` takes, measured side by side in one run:
 * - native ingest: createTelemetry → openHttpStore in this process → a `tally serve` child
 *   (Bun, a fresh SQLite file) vs the same records through createTelemetry → openSqliteStore
 *   in-process; records/s from the first record to the end of `await flush()` (everything
 *   acknowledged, so committed). `producers` services post at once (one batch in flight each).
 * - OTLP traces: the real OpenTelemetry exporter (protobuf and JSON) with a BatchSpanProcessor
 *   of 512-span exports, GenAI chat spans → executions; spans/s and the latency of each export.
 * Variants run interleaved in rounds; the table shows medians.
 *
 *   bun bench/ingest.ts
 *   IN_N=200000 IN_ROUNDS=3 IN_PRODUCERS=1,4 bun bench/ingest.ts
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { createTelemetry } from "../src/index.ts";
import { openHttpStore } from "../src/store/http/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { envInt, fmt, machineInfo, machineLine, makeExecution, median, percentile, ratio, sortedCopy, table, tempDir, writeResults } from "./lib.ts";

const N = envInt("IN_N", 100_000);
const SPANS = envInt("IN_SPANS", 100_000);
const ROUNDS = envInt("IN_ROUNDS", 3);
const PRODUCERS = (process.env.IN_PRODUCERS ?? "1,4").split(",").map(Number);
const machine = machineInfo();
const { dir, cleanup } = tempDir("ingest");
let fileNo = 0;
const freshPath = () => join(dir, `db-${fileNo++}.db`);

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The server's resident memory and its peak so far, in MiB (Linux /proc). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

async function startServerChild(path: string): Promise<Server> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "../src/cli/bin.ts"), "serve", "--db", path, "--port", "0", "--json", "--retention-days", "0"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("tally serve exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { url } = JSON.parse(text.split("\n")[0]!) as { url: string };
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Records N executions into each telemetry (split evenly), flushing when queues fill; returns records/s. */
async function drive(telemetries: ReturnType<typeof createTelemetry>[]): Promise<number> {
  const started = performance.now();
  const per = Math.ceil(N / telemetries.length);
  await Promise.all(
    telemetries.map(async (telemetry, t) => {
      for (let i = t * per; i < Math.min(N, (t + 1) * per); i++) {
        telemetry.recordExecution(makeExecution(i));
        if (telemetry.stats().queued >= 9_000) await telemetry.flush();
      }
      await telemetry.flush();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const telemetry of telemetries) {
    const stats = telemetry.stats();
    if (stats.written !== per && stats.written !== N - per * (telemetries.length - 1)) throw new Error(`wrote ${stats.written}: ${JSON.stringify(stats)}`);
    await telemetry.shutdown();
  }
  return N / seconds;
}

async function inProcess(): Promise<number> {
  const path = freshPath();
  const rate = await drive([createTelemetry({ store: openSqliteStore({ path, retentionDays: 0 }), flushOnExit: false })]);
  rmSync(path, { force: true });
  return rate;
}

async function throughServer(producers: number): Promise<number> {
  const path = freshPath();
  const server = await startServerChild(path);
  try {
    return await drive(Array.from({ length: producers }, () => createTelemetry({ store: openHttpStore({ url: server.url }), flushOnExit: false })));
  } finally {
    await server.stop();
    rmSync(path, { force: true });
  }
}

/** Times every export of a wrapped exporter. */
class TimedExporter implements SpanExporter {
  readonly latenciesMs: number[] = [];
  failures = 0;
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    const started = performance.now();
    this.inner.export(spans, (result) => {
      this.latenciesMs.push(performance.now() - started);
      if (result.code !== 0) this.failures++;
      done(result);
    });
  }
  shutdown() {
    return this.inner.shutdown();
  }
  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

async function otlp(encoding: "protobuf" | "json"): Promise<{ spansPerSecond: number; p50Ms: number; p99Ms: number }> {
  const path = freshPath();
  const server = await startServerChild(path);
  try {
    const url = `${server.url}/v1/traces`;
    const exporter = new TimedExporter(encoding === "protobuf" ? new OtlpProtoExporter({ url }) : new OtlpJsonExporter({ url }));
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, maxQueueSize: 8192, scheduledDelayMillis: 5 })],
    });
    const tracer = provider.getTracer("bench");
    const started = performance.now();
    for (let i = 0; i < SPANS; i++) {
      const span = tracer.startSpan("chat claude-sonnet-4-5", {
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-sonnet-4-5",
          "gen_ai.usage.input_tokens": 1200 + (i % 500),
          "gen_ai.usage.output_tokens": 300,
          "gen_ai.usage.cache_read.input_tokens": 1000,
        },
      });
      span.end();
      // Let the processor export as spans come (as a service would), without dropping any.
      if (i % 4096 === 4095) await new Promise((resolve) => setImmediate(resolve));
    }
    await provider.forceFlush();
    const seconds = (performance.now() - started) / 1000;
    await provider.shutdown();
    if (exporter.failures > 0) throw new Error(`${exporter.failures} exports failed`);
    const sorted = sortedCopy(exporter.latenciesMs);
    return { spansPerSecond: SPANS / seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  } finally {
    await server.stop();
    rmSync(path, { force: true });
  }
}

/**
 * A burst far beyond what the store can take: `clients` connections each posting 500-record
 * batches back to back for `seconds`. The queue is bounded (20,000 records by default), so the
 * server answers 429 instead of growing: its peak memory is the measure.
 */
async function burst(clients: number, seconds: number) {
  const path = freshPath();
  const server = await startServerChild(path);
  try {
    const idle = memoryMiB(server.pid);
    const statuses = new Map<number, number>();
    const end = performance.now() + seconds * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) {
          const records = Array.from({ length: 500 }, () => {
            const i = next++;
            return { kind: "execution", id: `burst-${i}`, ...makeExecution(i) };
          });
          const response = await fetch(`${server.url}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ records }) });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const after = memoryMiB(server.pid);
    return { idleRssMiB: idle.rss, peakRssMiB: after.peak, statuses: Object.fromEntries(statuses), recordsSent: next };
  } finally {
    await server.stop();
    rmSync(path, { force: true });
  }
}

/**
 * Latency of one 512-span export on an otherwise idle server: the real serializer's protobuf
 * body posted `count` times in a row (distinct spans each time), p50 and p99 of the answers.
 */
async function exportLatency(count: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const path = freshPath();
  const server = await startServerChild(path);
  try {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer("bench");
    const latencies: number[] = [];
    for (let k = 0; k < count; k++) {
      memory.reset();
      for (let i = 0; i < 512; i++) {
        tracer.startSpan("chat claude-sonnet-4-5", { attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 1200 + i, "gen_ai.usage.output_tokens": 300 } }).end();
      }
      const body = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
      const started = performance.now();
      const response = await fetch(`${server.url}/v1/traces`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`export answered ${response.status}`);
    }
    const sorted = sortedCopy(latencies);
    return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  } finally {
    await server.stop();
    rmSync(path, { force: true });
  }
}

void trace; // the API package is the SDK's peer; imported so the bench fails early without it

const results: Record<string, number[]> = { inProcess: [] };
for (const p of PRODUCERS) results[`server${p}`] = [];
const otlpResults: Record<string, { spansPerSecond: number; p50Ms: number; p99Ms: number }[]> = { protobuf: [], json: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.inProcess!.push(await inProcess());
  for (const p of PRODUCERS) results[`server${p}`]!.push(await throughServer(p));
  for (const encoding of ["protobuf", "json"] as const) otlpResults[encoding]!.push(await otlp(encoding));
  console.error(`round ${round + 1}/${ROUNDS} done`);
}
cleanup();

const base = median(results.inProcess!);
console.log(machineLine(machine));
console.log(`\nNative ingest, ${N.toLocaleString()} executions, median of ${ROUNDS} rounds:\n`);
console.log(
  table(
    ["path", "records/s", "vs in-process"],
    [
      ["createTelemetry → openSqliteStore, in-process", fmt(base), "1.00×"],
      ...PRODUCERS.map((p) => [`createTelemetry → openHttpStore → tally serve (${p} producer${p > 1 ? "s" : ""})`, fmt(median(results[`server${p}`]!)), ratio(median(results[`server${p}`]!) / base)]),
    ],
  ),
);
console.log(`\nOTLP traces, ${SPANS.toLocaleString()} GenAI chat spans through the real exporter (512-span exports), median of ${ROUNDS}:\n`);
console.log(
  table(
    ["encoding", "spans/s", "exporter's export() p50 ms (queueing included)", "p99 ms"],
    (["protobuf", "json"] as const).map((e) => {
      const runs = otlpResults[e]!;
      return [e, fmt(median(runs.map((r) => r.spansPerSecond))), fmt(median(runs.map((r) => r.p50Ms)), 1), fmt(median(runs.map((r) => r.p99Ms)), 1)];
    }),
  ),
);
const latency = await exportLatency(envInt("IN_LATENCY_EXPORTS", 200));
console.log(`\nOne 512-span protobuf export on an idle server (${envInt("IN_LATENCY_EXPORTS", 200)} in a row): p50 ${fmt(latency.p50Ms, 1)} ms, p99 ${fmt(latency.p99Ms, 1)} ms`);

const BURST_CLIENTS = envInt("IN_BURST_CLIENTS", 64);
const BURST_SECONDS = envInt("IN_BURST_SECONDS", 5);
const bursts = [];
for (let round = 0; round < ROUNDS; round++) bursts.push(await burst(BURST_CLIENTS, BURST_SECONDS));
console.log(`\nBurst: ${BURST_CLIENTS} clients posting 500-run batches back to back for ${BURST_SECONDS} s (the default queue holds 20,000 records):\n`);
console.log(
  table(
    ["round", "records sent", "answers", "server RSS idle MiB", "server RSS peak MiB"],
    bursts.map((b, i) => [i + 1, fmt(b.recordsSent), Object.entries(b.statuses).map(([status, n]) => `${status}: ${n}`).join(", "), fmt(b.idleRssMiB, 1), fmt(b.peakRssMiB, 1)]),
  ),
);
writeResults("ingest", { machine, N, SPANS, ROUNDS, results, otlpResults, latency, bursts });
