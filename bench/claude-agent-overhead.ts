/**
 * Per-message overhead of `instrumentQuery`, side by side with iterating the same recorded
 * Agent SDK stream uninstrumented, and per-tool-call overhead of `telemetryHooks`.
 * Goal: under 5 µs per message.
 *
 * Streams (recorded fixtures from test/claude-agent/fixtures, typed against the SDK):
 * - `review run`: one single-prompt run as the review bot sees it: init, 40 tool uses (an
 *   assistant tool_use message and its tool_result each), the final text, the result: 83
 *   messages, one execution.
 * - `streaming session`: two prompts, two cumulative results in 14 messages: the densest
 *   result traffic a real stream has, so the worst case per message.
 *
 * Subjects, for each stream (every one iterates a fresh replay of the same message objects
 * and does the same trivial work per message):
 * - `uninstrumented`: `for await` over the replay (what a caller does without Tally).
 * - `uninstrumented (identical twin, A/A)`: the same again; the difference between the two
 *   is what the method reads when there is no difference at all.
 * - `+ instrumentQuery, stub telemetry`: the wrapper alone; `recordExecution` does nothing.
 * - `+ tally, no-op store`: `createTelemetry` on a store that accepts and discards batches.
 * - `+ tally, SQLite file`: as deployed, a real SQLite file in a temp dir.
 * For the two `tally` subjects the timed block ends with `await telemetry.flush()`, so the
 * validation, pricing and SQL of every record made in the block are in its cost.
 *
 * Method (as bench/mcp-overhead.ts, for a shared, noisy machine): subjects are compared in
 * small blocks close in time: each block runs RUNS replays per subject in a rotating order,
 * each block timed as a whole with Bun.nanoseconds(). A subject's overhead in a block is its
 * per-message time minus the baseline's in that same block; the table shows medians over
 * BLOCKS blocks (after WARMUP). Hooks: `PreToolUse` then `PostToolUse` awaited per call, against
 * two no-op async hooks, in rounds of HOOK_CALLS calls (each round ending with a flush for the
 * `tally` subjects), median of HOOK_ROUNDS.
 *
 *   bun bench/claude-agent-overhead.ts
 *   CA_BLOCKS=400 CA_RUNS=40 bun bench/claude-agent-overhead.ts
 */
import { join } from "node:path";
import type { HookCallback, HookInput, SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { createTelemetry, type Store, type Telemetry } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { instrumentQuery, telemetryHooks, type AgentRunContext } from "../src/capture/claude-agent/index.ts";
import { assistantText, assistantToolUse, initMessage, toolResult, SESSION_ID } from "../test/claude-agent/fixtures/pieces.ts";
import { successResult } from "../test/claude-agent/fixtures/single-runs.ts";
import { streamingSession } from "../test/claude-agent/fixtures/streaming-session.ts";
import { envInt, fmt, loadNow, machineInfo, machineLine, median, nextTurn, table, tempDir } from "./lib.ts";

const BLOCKS = envInt("CA_BLOCKS", 200);
const RUNS = envInt("CA_RUNS", 20);
const WARMUP = envInt("CA_WARMUP_BLOCKS", 20);
const HOOK_ROUNDS = envInt("CA_HOOK_ROUNDS", 7);
const HOOK_CALLS = envInt("CA_HOOK_CALLS", 100_000);

const machine = machineInfo();
const { dir, cleanup } = tempDir("claude-agent-overhead");

function reviewRun(): SDKMessage[] {
  const messages: SDKMessage[] = [initMessage(1)];
  for (let i = 0; i < 40; i++) {
    const id = `toolu_bench${i}`;
    messages.push(assistantToolUse(2 + 2 * i, id, i % 2 === 0 ? "mcp__github__get_file_contents" : "Grep", { path: `src/file-${i}.ts` }));
    messages.push(toolResult(3 + 2 * i, id, `contents of file ${i}`));
  }
  messages.push(assistantText(82, "Reviewed 40 files; no blocking issues."), successResult);
  return messages;
}

const streams: { name: string; messages: SDKMessage[] }[] = [
  { name: "review run (83 messages, 1 result)", messages: reviewRun() },
  { name: "streaming session (14 messages, 2 results)", messages: streamingSession },
];

async function* replay(messages: readonly SDKMessage[]): AsyncGenerator<SDKMessage, void, undefined> {
  for (const message of messages) yield message;
}

const noopStore: Store = {
  write: (batch) => ({ ok: true, inserted: batch.length }),
  purgeOlderThan: () => 0,
  checkpoint() {},
  close() {},
};

/** Takes records and drops them: the wrapper's own cost. */
const stubTelemetry = { recordExecution() {}, recordToolCall() {} } as unknown as Telemetry;

interface Subject {
  name: string;
  telemetry?: Telemetry;
  /** Replays one stream once; returns what it saw, so nothing is optimised away. */
  run(messages: readonly SDKMessage[]): Promise<number>;
  perMessageNs: number[];
  overheadNs: number[];
}

let sink = 0;

function plain(name: string): Subject {
  return {
    name,
    async run(messages) {
      let seen = 0;
      for await (const message of replay(messages)) if (message.type !== "stream_event") seen++;
      return seen;
    },
    perMessageNs: [],
    overheadNs: [],
  };
}

function instrumented(name: string, telemetry: Telemetry, owned: boolean): Subject {
  return {
    name,
    telemetry: owned ? telemetry : undefined,
    async run(messages) {
      let seen = 0;
      const context: AgentRunContext = { deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", eventType: "pull_request.opened", repo: "octo-org/app", prNumber: 42 };
      for await (const message of instrumentQuery(replay(messages), telemetry, context)) if (message.type !== "stream_event") seen++;
      return seen;
    },
    perMessageNs: [],
    overheadNs: [],
  };
}

const telemetryOn = (store: Store) => createTelemetry({ store, flushOnExit: false });
const BASELINE = "uninstrumented";

function subjects(): Subject[] {
  return [
    plain(BASELINE),
    plain("uninstrumented (identical twin, A/A)"),
    instrumented("+ instrumentQuery, stub telemetry", stubTelemetry, false),
    instrumented("+ tally, no-op store", telemetryOn(noopStore), true),
    instrumented("+ tally, SQLite file", telemetryOn(openSqliteStore({ path: join(dir, `bench-${Math.random().toString(36).slice(2)}.db`), retentionDays: 0 })), true),
  ];
}

async function timeBlock(s: Subject, messages: readonly SDKMessage[]): Promise<number> {
  const started = Bun.nanoseconds();
  for (let i = 0; i < RUNS; i++) sink += await s.run(messages);
  if (s.telemetry) await s.telemetry.flush();
  return (Bun.nanoseconds() - started) / (RUNS * messages.length);
}

const us = (ns: number) => fmt(ns / 1000, 3);
const signed = (ns: number) => `${ns >= 0 ? "+" : ""}${us(ns)}`;

async function measureStream(stream: { name: string; messages: SDKMessage[] }): Promise<string> {
  const list = subjects();
  for (let block = 0; block < WARMUP + BLOCKS; block++) {
    const perMessage = new Map<string, number>();
    for (let k = 0; k < list.length; k++) {
      const s = list[(block + k) % list.length]!;
      perMessage.set(s.name, await timeBlock(s, stream.messages));
      await nextTurn();
    }
    if (block < WARMUP) continue;
    for (const s of list) {
      s.perMessageNs.push(perMessage.get(s.name)!);
      if (s.name !== BASELINE) s.overheadNs.push(perMessage.get(s.name)! - perMessage.get(BASELINE)!);
    }
  }
  const rows = list.map((s) => {
    const sorted = [...s.overheadNs].sort((a, b) => a - b);
    const quartiles = s.name === BASELINE ? "—" : `${signed(sorted[Math.floor(sorted.length / 4)]!)} … ${signed(sorted[Math.floor((3 * sorted.length) / 4)]!)}`;
    return [s.name, us(median(s.perMessageNs)), s.name === BASELINE ? "—" : signed(median(s.overheadNs)), quartiles];
  });
  const problems: string[] = [];
  for (const s of list) {
    if (!s.telemetry) continue;
    await s.telemetry.shutdown();
    const { written, dropped } = s.telemetry.stats();
    if (dropped.queueFull + dropped.invalid + dropped.writeFailed > 0) problems.push(`${s.name}: dropped ${JSON.stringify(dropped)}`);
    problems.push(`${s.name}: ${written} executions written`);
  }
  return [
    `## ${stream.name}`,
    "",
    table(["subject", "µs per message (median)", "overhead µs per message (median of paired blocks)", "overhead interquartile range µs"], rows),
    "",
    ...problems.map((p) => `- ${p}`),
  ].join("\n");
}

/** PreToolUse + PostToolUse per call, awaited as the SDK awaits them, against two no-op async hooks. */
async function hooksPerCallNs(): Promise<string> {
  const signal = new AbortController().signal;
  const pre = (i: number): HookInput => ({
    session_id: SESSION_ID,
    transcript_path: "/tmp/t.jsonl",
    cwd: "/app",
    hook_event_name: "PreToolUse",
    tool_name: "mcp__github__get_file_contents",
    tool_input: { path: "src/a.ts" },
    tool_use_id: `toolu_${i}`,
  });
  const post = (i: number): HookInput => ({
    session_id: SESSION_ID,
    transcript_path: "/tmp/t.jsonl",
    cwd: "/app",
    hook_event_name: "PostToolUse",
    tool_name: "mcp__github__get_file_contents",
    tool_input: { path: "src/a.ts" },
    tool_response: { content: [] },
    tool_use_id: `toolu_${i}`,
    duration_ms: 120,
  });
  const inputs = Array.from({ length: 1024 }, (_, i) => [pre(i), post(i)] as const);
  const noop: HookCallback = async () => ({ continue: true });
  const noopTelemetry = telemetryOn(noopStore);
  const sqliteTelemetry = telemetryOn(openSqliteStore({ path: join(dir, "hooks.db"), retentionDays: 0 }));
  const variants: [string, HookCallback, HookCallback, Telemetry | undefined][] = [["two no-op async hooks (baseline)", noop, noop, undefined]];
  for (const [name, telemetry] of [
    ["telemetryHooks, stub telemetry", stubTelemetry],
    ["telemetryHooks + tally, no-op store", noopTelemetry],
    ["telemetryHooks + tally, SQLite file", sqliteTelemetry],
  ] as const) {
    const hooks = telemetryHooks(telemetry, {});
    variants.push([name, hooks.PreToolUse![0]!.hooks[0]!, hooks.PostToolUse![0]!.hooks[0]!, telemetry === stubTelemetry ? undefined : telemetry]);
  }
  const round = async (preHook: HookCallback, postHook: HookCallback, telemetry: Telemetry | undefined, calls: number) => {
    const started = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) {
      const [a, b] = inputs[i & 1023]!;
      await preHook(a, a.hook_event_name === "PreToolUse" ? a.tool_use_id : undefined, { signal });
      await postHook(b, undefined, { signal });
    }
    if (telemetry) await telemetry.flush();
    return (Bun.nanoseconds() - started) / calls;
  };
  const results = new Map<string, number[]>();
  for (const [, a, b, t] of variants) await round(a, b, t, HOOK_CALLS / 4);
  for (let r = 0; r < HOOK_ROUNDS; r++) {
    for (const [name, a, b, t] of variants) {
      results.set(name, [...(results.get(name) ?? []), await round(a, b, t, HOOK_CALLS)]);
      await nextTurn();
    }
  }
  const baseline = median(results.get(variants[0]![0])!);
  const rows = variants.map(([name]) => {
    const value = median(results.get(name)!);
    return [name, us(value), name === variants[0]![0] ? "—" : signed(value - baseline)];
  });
  await noopTelemetry.shutdown();
  await sqliteTelemetry.shutdown();
  return ["## telemetryHooks, per tool call (PreToolUse + PostToolUse)", "", table(["subject", "µs per call (median)", "overhead µs"], rows)].join("\n");
}

const header = [
  "# instrumentQuery overhead per message",
  "",
  machineLine(machine),
  `${BLOCKS} blocks × ${RUNS} replays per subject (after ${WARMUP} warm-up blocks); hooks: median of ${HOOK_ROUNDS} rounds × ${HOOK_CALLS} calls`,
].join("\n");
console.log(`${header}\n`);
const sections: string[] = [];
for (const stream of streams) {
  sections.push(await measureStream(stream));
  console.log(`${sections.at(-1)}\n`);
}
sections.push(await hooksPerCallNs());
console.log(`${sections.at(-1)}\n`);
const footer = `loadavg at end ${loadNow().join(" ")}`;
console.log(footer);
if (sink < 0) console.log(sink);

cleanup();
