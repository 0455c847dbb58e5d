/**
 * Cost of one `telemetry.recordExecution(...)` call on the caller's path, side by side with
 * (a) a direct synchronous bun:sqlite INSERT of the same row (1 row per implicit transaction)
 * and (b) starting and ending an OpenTelemetry span with a BatchSpanProcessor over a
 * discarding exporter.
 *
 * Method: calls are timed in groups of G with Bun.nanoseconds() around the whole group
 * (Bun.nanoseconds() itself costs ~70 ns, so timing single calls would mostly measure the
 * clock); per-call ns = group time / G. Between groups the event loop gets a turn, so
 * Tally's flush loop writes batches to a real SQLite file and the span processor exports;
 * every ~5000 recorded calls the bench also awaits `telemetry.flush()` (outside the timed
 * region), so the queue never fills and every call takes the enqueue path, not the drop
 * path. A group's mean hides a single slow call inside it, so a second pass times groups of
 * 1 (the clock's own cost is shown on the "empty" line) to show the per-call tail.
 * Subjects run interleaved, in a rotating order, for several rounds after a warm-up round;
 * the tables show the median over rounds of each round's percentiles.
 *
 *   bun bench/record-call.ts
 *   RC_ROUNDS=5 RC_GROUPS=1000 RC_SINGLES=20000 RC_SQLITE_GROUPS=100 RC_SQLITE_SINGLES=5000 bun bench/record-call.ts
 */
import type { ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Attributes as OtelAttributes, Tracer } from "@opentelemetry/api";
import { uuidv7 } from "uuidv7";
import { join } from "node:path";
import { createTelemetry, type ExecutionRecord } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import {
  envInt, fmt, freshSchemaFile, INSERT_EXECUTION, loadNow, machineInfo, machineLine, makeExecution, median, nextTurn,
  openRaw, percentile, ratio, sortedCopy, table, tempDir, writeResults,
} from "./lib.ts";

const ROUNDS = envInt("RC_ROUNDS", 5);
const G = envInt("RC_GROUP_SIZE", 100);
const GROUPS = envInt("RC_GROUPS", 1000); // groups of G per round for the fast subjects
const SINGLES = envInt("RC_SINGLES", 20_000); // single timed calls per round for the fast subjects
const SQLITE_GROUPS = envInt("RC_SQLITE_GROUPS", 100);
const SQLITE_SINGLES = envInt("RC_SQLITE_SINGLES", 5_000);
const FLUSH_EVERY_CALLS = 5_000;

const machine = machineInfo();
const { dir, cleanup } = tempDir("record-call");

// ---- inputs, built before any timing ------------------------------------------------------
const POOL = 1024;
const MASK = POOL - 1;
const records: ExecutionRecord[] = Array.from({ length: POOL }, (_, i) => makeExecution(i, true));
const deliveryIds = records.map((r) => r.deliveryId!);
function spanAttributes(r: ExecutionRecord): OtelAttributes {
  return {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": r.model,
    "gen_ai.usage.input_tokens": r.inputTokens!,
    "gen_ai.usage.output_tokens": r.outputTokens!,
    "gen_ai.usage.cache_read.input_tokens": r.cacheReadTokens!,
    "gen_ai.usage.cache_creation.input_tokens": r.cacheCreationTokens!,
    "gen_ai.conversation.id": r.sessionId!,
    "gen_ai.response.finish_reasons": [r.stopReason!],
    "vcs.repository.name": r.repo!,
    "vcs.change.id": String(r.prNumber),
    "github.event": r.eventType!,
    "github.delivery_id": r.deliveryId!,
    "tally.conclusion": r.conclusion,
    "tally.cost_usd": r.costUsd!,
    "tally.num_turns": r.numTurns!,
    "tally.duration_ms": r.durationMs!,
  };
}
const attributes = records.map(spanAttributes);

// ---- subjects -------------------------------------------------------------------------------
const store = openSqliteStore({ path: join(dir, "tally.db"), retentionDays: 0 });
const telemetry = createTelemetry({ store, flushOnExit: false });

class DiscardExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exported += spans.length;
    resultCallback({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const exporter = new DiscardExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
const tracer: Tracer = provider.getTracer("tally-bench");
let spansStarted = 0;

const rawDb = openRaw(freshSchemaFile(dir, "direct.db"));
const insert = rawDb.prepare(INSERT_EXECUTION);
let sqliteRows = 0;

let sink = 0;
let lastLiteral: ExecutionRecord | null = null;

type Between = (group: number) => Promise<void>;
const yieldOnly: Between = () => nextTurn();
function telemetryBetween(groupSize: number): Between {
  const every = Math.max(1, Math.round(FLUSH_EVERY_CALLS / groupSize));
  return (g) => ((g + 1) % every === 0 ? telemetry.flush() : nextTurn());
}
/** Groups of 1 yield every 100 calls, to keep the setImmediate overhead off the subjects' clocks. */
function singlesBetween(inner: Between): Between {
  return (g) => ((g + 1) % 100 === 0 ? inner(Math.floor(g / 100)) : Promise.resolve());
}

/** Each subject's timed loop is written out, so its call site stays monomorphic. */
const subjects = {
  empty: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) sink ^= k;
      out[g] = (Bun.nanoseconds() - t0) / size;
      await between(g);
    }
  },
  tally: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const base = g * size;
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) telemetry.recordExecution(records[(base + k) & MASK]!);
      out[g] = (Bun.nanoseconds() - t0) / size;
      await between(g);
    }
  },
  tallyLiteral: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const base = g * size;
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) {
        telemetry.recordExecution({
          repo: "acme/service-1",
          eventType: "pull_request.opened",
          model: "claude-sonnet-4-5",
          conclusion: "success",
          deliveryId: deliveryIds[(base + k) & MASK]!,
          prNumber: 42,
          inputTokens: 1_200 + k,
          outputTokens: 800,
          cacheReadTokens: 9_000,
          cacheCreationTokens: 0,
          durationMs: 5_123,
          costUsd: 0.0123,
          sessionId: "session-1",
          numTurns: 3,
          stopReason: "end_turn",
        });
      }
      out[g] = (Bun.nanoseconds() - t0) / size;
      await between(g);
    }
  },
  literalOnly: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const base = g * size;
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) {
        lastLiteral = {
          repo: "acme/service-1",
          eventType: "pull_request.opened",
          model: "claude-sonnet-4-5",
          conclusion: "success",
          deliveryId: deliveryIds[(base + k) & MASK]!,
          prNumber: 42,
          inputTokens: 1_200 + k,
          outputTokens: 800,
          cacheReadTokens: 9_000,
          cacheCreationTokens: 0,
          durationMs: 5_123,
          costUsd: 0.0123,
          sessionId: "session-1",
          numTurns: 3,
          stopReason: "end_turn",
        };
      }
      out[g] = (Bun.nanoseconds() - t0) / size;
      await between(g);
    }
  },
  spanBare: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) tracer.startSpan("invoke_agent").end();
      out[g] = (Bun.nanoseconds() - t0) / size;
      spansStarted += size;
      await between(g);
    }
  },
  spanAttrs: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const base = g * size;
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) tracer.startSpan("invoke_agent", { attributes: attributes[(base + k) & MASK]! }).end();
      out[g] = (Bun.nanoseconds() - t0) / size;
      spansStarted += size;
      await between(g);
    }
  },
  sqlite: async (n: number, out: Float64Array, size: number, between: Between) => {
    for (let g = 0; g < n; g++) {
      const base = g * size;
      const t0 = Bun.nanoseconds();
      for (let k = 0; k < size; k++) {
        const r = records[(base + k) & MASK]!;
        insert.run(uuidv7(), Date.now(), r.deliveryId!, r.repo!, r.prNumber!, r.eventType!, "anthropic", r.model,
          r.inputTokens!, r.outputTokens!, r.cacheReadTokens!, r.cacheCreationTokens!, r.durationMs!, r.costUsd!, "reported",
          r.conclusion, r.sessionId!, r.numTurns!, r.stopReason!, null);
      }
      out[g] = (Bun.nanoseconds() - t0) / size;
      sqliteRows += size;
      await between(g);
    }
  },
};
type SubjectName = keyof typeof subjects;

const LABELS: Record<SubjectName, string> = {
  tally: "Tally `recordExecution` (prebuilt record)",
  tallyLiteral: "Tally `recordExecution` (object literal built per call)",
  literalOnly: "control: the same object literal built, not recorded",
  spanBare: "OTel span start+end, no attributes (BatchSpanProcessor, discarding exporter)",
  spanAttrs: "OTel span start+end, same 17 fields as attributes",
  sqlite: "bun:sqlite direct INSERT, 1 row per implicit tx (WAL, sync=NORMAL)",
  empty: "empty group (clock + loop overhead)",
};
const ORDER: SubjectName[] = ["tally", "tallyLiteral", "literalOnly", "spanBare", "spanAttrs", "sqlite", "empty"];

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}
function summarise(values: Float64Array): Percentiles {
  const s = sortedCopy(values);
  let sum = 0;
  for (const v of s) sum += v;
  return {
    p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), p999: percentile(s, 99.9),
    max: s[s.length - 1]!, mean: sum / s.length,
  };
}

type Mode = "grouped" | "single";
const perRound: Record<Mode, Record<SubjectName, Percentiles[]>> = {
  grouped: Object.fromEntries(ORDER.map((s) => [s, []])) as unknown as Record<SubjectName, Percentiles[]>,
  single: Object.fromEntries(ORDER.map((s) => [s, []])) as unknown as Record<SubjectName, Percentiles[]>,
};

function countFor(subject: SubjectName, mode: Mode, warm: boolean): number {
  const isSqlite = subject === "sqlite";
  const n = mode === "grouped" ? (isSqlite ? SQLITE_GROUPS : GROUPS) : isSqlite ? SQLITE_SINGLES : SINGLES;
  return warm ? Math.max(10, Math.floor(n / 4)) : n;
}

async function runOne(subject: SubjectName, mode: Mode, warm: boolean): Promise<Percentiles> {
  const size = mode === "grouped" ? G : 1;
  const n = countFor(subject, mode, warm);
  const out = new Float64Array(n);
  // The control gets Tally's between-group schedule too, so both see the same flushes.
  const inner = subject === "tally" || subject === "tallyLiteral" || subject === "literalOnly" ? telemetryBetween(size) : yieldOnly;
  await subjects[subject](n, out, size, mode === "grouped" ? inner : singlesBetween(inner));
  // Settle every subject's background work before the next one is timed.
  await telemetry.flush();
  await provider.forceFlush();
  return summarise(out);
}

const started = Date.now();
console.error(`record-call: ${ROUNDS} rounds (+1 warm-up), G=${G}, ${GROUPS} groups/round (${SQLITE_GROUPS} for sqlite), ${SINGLES} single calls/round (${SQLITE_SINGLES} for sqlite)`);
for (let round = 0; round <= ROUNDS; round++) {
  const warm = round === 0;
  const order = ORDER.map((_, i) => ORDER[(i + round) % ORDER.length]!);
  for (const mode of ["grouped", "single"] as Mode[]) {
    for (const subject of order) {
      const result = await runOne(subject, mode, warm);
      if (!warm) perRound[mode][subject].push(result);
    }
  }
  console.error(`  round ${warm ? "warm-up" : round} done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

await telemetry.flush();
const stats = telemetry.stats();
await telemetry.shutdown();
await provider.shutdown();
rawDb.close();
void lastLiteral;
cleanup();
const loadAtEnd = loadNow();

// ---- report ---------------------------------------------------------------------------------
type Summary = Record<keyof Percentiles, number>;
function medianOf(list: Percentiles[]): Summary {
  const keys: (keyof Percentiles)[] = ["p50", "p90", "p99", "p999", "max", "mean"];
  return Object.fromEntries(keys.map((k) => [k, median(list.map((x) => x[k]))])) as Summary;
}
const grouped = Object.fromEntries(ORDER.map((s) => [s, medianOf(perRound.grouped[s])])) as Record<SubjectName, Summary>;
const single = Object.fromEntries(ORDER.map((s) => [s, medianOf(perRound.single[s])])) as Record<SubjectName, Summary>;

const ns = (v: number) => fmt(v, v < 100 ? 1 : 0);
const groupedTable = table(
  ["subject", "p50 ns/call", "p90", "p99", "mean", "× Tally p50", "× Tally p99"],
  ORDER.map((s) => [
    LABELS[s], ns(grouped[s].p50), ns(grouped[s].p90), ns(grouped[s].p99), ns(grouped[s].mean),
    ratio(grouped[s].p50 / grouped.tally.p50, 1), ratio(grouped[s].p99 / grouped.tally.p99, 1),
  ]),
);
const singleTable = table(
  ["subject (groups of 1, includes the clock)", "p50 ns", "p99", "p99.9", "max (median of rounds)"],
  ORDER.map((s) => [LABELS[s], ns(single[s].p50), ns(single[s].p99), ns(single[s].p999), ns(single[s].max)]),
);

const p99Goal = grouped.tally.p99 <= 1_000;
const spanRatioP50 = grouped.spanBare.p50 / grouped.tally.p50;
const spanRatioP99 = grouped.spanBare.p99 / grouped.tally.p99;
const spanGoal = spanRatioP50 >= 10 && spanRatioP99 >= 10;
const sqliteRatio = grouped.sqlite.p50 / grouped.tally.p50;

const markdown = [
  `## record-call: cost of one recordExecution call`,
  ``,
  machineLine(machine) + `; loadavg at end ${loadAtEnd.join(" ")}`,
  `rounds=${ROUNDS} (+1 warm-up), groups of ${G}: ${GROUPS} groups/round (${SQLITE_GROUPS} for sqlite); singles: ${SINGLES}/round (${SQLITE_SINGLES} for sqlite). Medians over rounds.`,
  ``,
  `### Per call, timed in groups of ${G} (group time / ${G})`,
  groupedTable,
  ``,
  `### Per call, timed one by one (tail check; subtract the "empty" line for the clock)`,
  singleTable,
  ``,
  `Ratios: OTel bare span / Tally = ${ratio(spanRatioP50, 1)} at p50, ${ratio(spanRatioP99, 1)} at p99; ` +
    `span with attributes / Tally = ${ratio(grouped.spanAttrs.p50 / grouped.tally.p50, 1)} at p50; ` +
    `direct SQLite INSERT / Tally = ${ratio(sqliteRatio, 0)} at p50, ${ratio(grouped.sqlite.p99 / grouped.tally.p99, 0)} at p99.`,
  `Goal p99 ≤ 1 µs (groups of ${G}): ${p99Goal ? "MET" : "MISSED"} (${ns(grouped.tally.p99)} ns). ` +
    `Goal ≥ 10× cheaper than a span (p50 and p99, bare span): ${spanGoal ? "MET" : "MISSED"}.`,
  `Telemetry stats after the run: written=${stats.written}, queueFull=${stats.dropped.queueFull}, invalid=${stats.dropped.invalid}, writeFailed=${stats.dropped.writeFailed}, flushes=${stats.flushes}; spans started=${spansStarted}, exported=${exporter.exported}; direct rows=${sqliteRows}.`,
].join("\n");
console.log(markdown);

const path = writeResults("record-call", {
  bench: "record-call",
  date: new Date().toISOString(),
  command: "bun bench/record-call.ts",
  params: { ROUNDS, G, GROUPS, SINGLES, SQLITE_GROUPS, SQLITE_SINGLES, FLUSH_EVERY_CALLS },
  machine: { ...machine, loadavgAtEnd: loadAtEnd },
  labels: LABELS,
  grouped,
  single,
  perRound,
  ratios: { spanBareOverTallyP50: spanRatioP50, spanBareOverTallyP99: spanRatioP99, sqliteOverTallyP50: sqliteRatio },
  goals: { p99AtMost1us: p99Goal, tenTimesCheaperThanSpan: spanGoal },
  stats,
  spans: { started: spansStarted, exported: exporter.exported },
  sqliteRows,
  markdown,
});
console.error(`wrote ${path}`);
