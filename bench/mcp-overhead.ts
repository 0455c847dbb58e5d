/**
 * Per tool call overhead of `instrumentMcpServer`, side by side with the same server
 * uninstrumented, over InMemoryTransport with the SDK's real `Client`. Goal: under 5 µs a call.
 *
 * Subjects (each its own server, client and connection, all alive for the whole run):
 * - `McpServer`, `Server`: uninstrumented baselines (an `echo` tool with one string argument).
 * - `+ tally, no-op store`: the capture hooks and the telemetry queue, with a store that
 *   accepts every batch and does nothing: what the instrumentation itself costs.
 * - `+ tally, SQLite file`: as deployed: a real SQLite file in a temp dir; the flushes (one
 *   transaction of 50 rows) run on the same thread between calls and are included.
 * - `+ captureArguments`: as above, also storing arguments and results as text.
 * - `hooks only`: the per-connection hooks (request in, response out) called directly on
 *   prebuilt messages with a no-op telemetry: the instrumentation's own cost without the SDK's noise.
 *
 * Method: the machine this runs on is shared and noisy, so subjects are compared in small
 * blocks close in time rather than in long rounds: each block runs BLOCK_CALLS sequential
 * `await client.callTool()` on every subject, in a rotating order, each timed as a whole with
 * Bun.nanoseconds(). A subject's overhead in a block is its per-call time minus its baseline's
 * (same server class) in that same block; the table shows the median over BLOCKS blocks of
 * the per-call times and of those paired differences, after WARMUP blocks. Telemetry flushes
 * run when they fall due, inside the subject's timed calls: they are part of its cost.
 * The A/A line (an identical uninstrumented twin) shows what the method reads when there is
 * no difference at all.
 *
 *   bun bench/mcp-overhead.ts
 *   MCP_BLOCKS=400 MCP_BLOCK_CALLS=100 bun bench/mcp-overhead.ts
 */
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { createTelemetry, type Store, type Telemetry } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { instrumentMcpServer, type McpInstrumentationOptions } from "../src/capture/mcp/index.ts";
import { McpConnection } from "../src/capture/mcp/connection.ts";
import { createCaptureContext } from "../src/capture/mcp/context.ts";
import { resolveOptions } from "../src/capture/mcp/options.ts";
import { envInt, fmt, loadNow, machineInfo, machineLine, median, nextTurn, table, tempDir } from "./lib.ts";

const BLOCKS = envInt("MCP_BLOCKS", 200);
const BLOCK_CALLS = envInt("MCP_BLOCK_CALLS", 100);
const WARMUP = envInt("MCP_WARMUP_BLOCKS", 20);
const HOOK_ROUNDS = envInt("MCP_HOOK_ROUNDS", 7);
const HOOK_CALLS = envInt("MCP_HOOK_CALLS", 200_000);

const machine = machineInfo();
const { dir, cleanup } = tempDir("mcp-overhead");

const noopStore: Store = {
  write: (batch) => ({ ok: true, inserted: batch.length }),
  purgeOlderThan: () => 0,
  checkpoint() {},
  close() {},
};

/** Takes records and drops them: the capture hooks alone, inside the SDK's real message flow. */
const stubTelemetry = { recordToolCall() {}, startSession() {}, endSession() {} };

function mcpServer(): McpServer {
  const server = new McpServer({ name: "bench", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: "text", text }] }));
  return server;
}

function lowLevelServer(): Server {
  const server = new Server({ name: "bench", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: "echo", inputSchema: { type: "object" as const } }] }));
  server.setRequestHandler(CallToolRequestSchema, (request) => ({
    content: [{ type: "text" as const, text: String(request.params.arguments?.text) }],
  }));
  return server;
}

interface Subject {
  name: string;
  baseline: string;
  client: Client;
  telemetry?: Telemetry;
  perCallNs: number[];
  overheadNs: number[];
}

async function subject(
  name: string,
  baseline: string,
  server: McpServer | Server,
  instrument?: { store: Store | "stub"; options?: McpInstrumentationOptions },
): Promise<Subject> {
  let telemetry: Telemetry | undefined;
  if (instrument?.store === "stub") {
    instrumentMcpServer(server, stubTelemetry, instrument.options);
  } else if (instrument) {
    telemetry = createTelemetry({ store: instrument.store, flushOnExit: false });
    instrumentMcpServer(server, telemetry, instrument.options);
  }
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: "bench-client", version: "1.0.0" });
  await client.connect(clientTransport);
  return { name, baseline, client, telemetry, perCallNs: [], overheadNs: [] };
}

const sqlite = (name: string) => openSqliteStore({ path: join(dir, `${name}.db`), retentionDays: 0 });

const subjects: Subject[] = [
  await subject("McpServer", "McpServer", mcpServer()),
  // An identical second baseline: the difference between the two is the noise floor.
  await subject("McpServer (identical twin, A/A)", "McpServer", mcpServer()),
  await subject("McpServer + hooks, stub telemetry", "McpServer", mcpServer(), { store: "stub" }),
  await subject("McpServer + tally, no-op store", "McpServer", mcpServer(), { store: noopStore }),
  await subject("McpServer + tally, SQLite file", "McpServer", mcpServer(), { store: sqlite("mcp") }),
  await subject("McpServer + tally, SQLite, captureArguments", "McpServer", mcpServer(), { store: sqlite("mcp-args"), options: { captureArguments: true } }),
  await subject("Server", "Server", lowLevelServer()),
  await subject("Server + hooks, stub telemetry", "Server", lowLevelServer(), { store: "stub" }),
  await subject("Server + tally, no-op store", "Server", lowLevelServer(), { store: noopStore }),
  await subject("Server + tally, SQLite file", "Server", lowLevelServer(), { store: sqlite("server") }),
];

const params = { name: "echo", arguments: { text: "the quick brown fox jumps over the lazy dog" } };

async function runBlock(s: Subject, calls: number): Promise<number> {
  const started = Bun.nanoseconds();
  for (let i = 0; i < calls; i++) await s.client.callTool(params);
  return (Bun.nanoseconds() - started) / calls;
}

/** The hooks alone: one request in and its response out per call, on prebuilt messages. */
function hooksOnlyNs(captureArguments: boolean): number {
  const noop = { recordToolCall() {}, startSession() {}, endSession() {} };
  const options = resolveOptions({ captureArguments });
  const connection = new McpConnection({ start: async () => {}, send: async () => {} }, createCaptureContext(noop, "bench", options));
  const requests = Array.from({ length: 1024 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "tools/call", params }));
  const responses = Array.from({ length: 1024 }, (_, i) => ({ jsonrpc: "2.0", id: i, result: { content: [{ type: "text", text: params.arguments.text }] } }));
  const once = (n: number) => {
    const started = Bun.nanoseconds();
    for (let i = 0; i < n; i++) {
      connection.received(requests[i & 1023]!);
      connection.sending(responses[i & 1023]!);
    }
    return (Bun.nanoseconds() - started) / n;
  };
  once(HOOK_CALLS / 4);
  return median(Array.from({ length: HOOK_ROUNDS }, () => once(HOOK_CALLS)));
}

console.log(`# instrumentMcpServer overhead per tool call\n`);
console.log(machineLine(machine));
console.log(`${BLOCKS} blocks × ${BLOCK_CALLS} calls per subject (after ${WARMUP} warm-up blocks); hooks only: median of ${HOOK_ROUNDS} × ${HOOK_CALLS}\n`);

const byName = new Map(subjects.map((s) => [s.name, s]));
for (let block = 0; block < WARMUP + BLOCKS; block++) {
  const perCall = new Map<string, number>();
  for (let k = 0; k < subjects.length; k++) {
    const s = subjects[(block + k) % subjects.length]!;
    perCall.set(s.name, await runBlock(s, BLOCK_CALLS));
    await nextTurn();
  }
  if (block < WARMUP) continue;
  for (const s of subjects) {
    s.perCallNs.push(perCall.get(s.name)!);
    if (s.name !== s.baseline) s.overheadNs.push(perCall.get(s.name)! - perCall.get(byName.get(s.baseline)!.name)!);
  }
}

const us = (ns: number) => fmt(ns / 1000, 2);
const signed = (ns: number) => `${ns >= 0 ? "+" : ""}${us(ns)}`;
const rows = subjects.map((s) => {
  const sortedOverhead = [...s.overheadNs].sort((a, b) => a - b);
  const quartiles = s.name === s.baseline ? "—" : `${signed(sortedOverhead[Math.floor(sortedOverhead.length / 4)]!)} … ${signed(sortedOverhead[Math.floor((3 * sortedOverhead.length) / 4)]!)}`;
  return [s.name, us(median(s.perCallNs)), s.name === s.baseline ? "—" : signed(median(s.overheadNs)), quartiles];
});
const hooks = hooksOnlyNs(false);
const hooksCapturing = hooksOnlyNs(true);
rows.push(["hooks only (request in + response out), stub telemetry", us(hooks), `+${us(hooks)}`, "—"]);
rows.push(["hooks only, captureArguments", us(hooksCapturing), `+${us(hooksCapturing)}`, "—"]);
console.log(table(["subject", "µs per call (median)", "overhead µs (median of paired blocks)", "overhead interquartile range µs"], rows));
console.log(`\nloadavg at end ${loadNow().join(" ")}`);

for (const s of subjects) {
  await s.client.close();
  await s.telemetry?.shutdown();
}
const dropped = subjects.map((s) => s.telemetry?.stats().dropped).filter(Boolean);
if (dropped.some((d) => d!.queueFull + d!.invalid + d!.writeFailed > 0)) console.log(`\nrecords dropped: ${JSON.stringify(dropped)}`);
cleanup();
