/**
 * What the MCP tests share: a telemetry on a real SQLite file read back through a second
 * connection, the client script that covers every outcome, and in-memory connections.
 */
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { createTelemetry, type Store, type Telemetry } from "../../src/index.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { tempDir } from "../support/temp-dir.ts";
import type { ServerKind, WaitSignals } from "./servers.ts";

export const CLIENT_INFO = { name: "tally-test-client", version: "1.2.3" };

export interface ToolCallRowView {
  id: string;
  created_at: number;
  session_id: string | null;
  execution_id: string | null;
  server: string;
  tool_name: string;
  duration_ms: number;
  outcome: string;
  error_type: string | null;
  input_bytes: number | null;
  output_bytes: number | null;
  attributes: string | null;
}

export interface SessionRowView {
  id: string;
  started_at: number;
  ended_at: number | null;
  source: string | null;
  client_name: string | null;
  client_version: string | null;
}

/** A telemetry writing to a fresh SQLite file, and readers of what reached it. */
export function sqliteTelemetry(): {
  telemetry: Telemetry;
  store: SqliteStore;
  path: string;
  toolCalls(): ToolCallRowView[];
  sessions(): SessionRowView[];
  fileText(): string;
} {
  const path = join(tempDir(), "tally.db");
  const store = openSqliteStore({ path });
  const telemetry = createTelemetry({ store, flushOnExit: false });
  const read = <T>(sql: string): T[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.query(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    telemetry,
    store,
    path,
    toolCalls: () => read<ToolCallRowView>("SELECT * FROM tool_calls ORDER BY created_at, tool_name"),
    sessions: () => read<SessionRowView>("SELECT * FROM sessions ORDER BY started_at"),
    // Every byte the database holds, WAL included, to prove something was never written.
    fileText: () =>
      [path, `${path}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file, "latin1"))
        .join(""),
  };
}

/** A store that throws on every call. */
export const throwingStore: Store = {
  write() {
    throw new Error("store is down");
  },
  purgeOlderThan() {
    throw new Error("store is down");
  },
  checkpoint() {
    throw new Error("store is down");
  },
  close() {
    throw new Error("store is down");
  },
};

/** What the client saw for one call, in a form `toEqual` can compare across servers. */
export interface Seen {
  label: string;
  result?: unknown;
  error?: { name: string; code: unknown; message: string };
}

function describeError(error: unknown): Seen["error"] {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return { name: String(e.name), code: e.code, message: String(e.message) };
}

/** The tool_calls rows {@link runScript} leaves: tool / outcome / error type of each call, per server class. */
export const SCRIPT_ROWS: Record<ServerKind, string[]> = {
  // McpServer answers every failure with an isError result; its own McpErrors keep their code.
  McpServer: [
    "echo ok -",
    "explode tool_error tool_error",
    "refuse tool_error tool_error",
    "no-such-tool tool_error McpError:-32602",
    "echo tool_error McpError:-32602",
    "wait cancelled cancelled",
  ],
  // The low-level Server answers a thrown error with a JSON-RPC error.
  Server: [
    "echo ok -",
    "explode protocol_error McpError:-32603",
    "refuse tool_error tool_error",
    "no-such-tool protocol_error McpError:-32602",
    "echo protocol_error McpError:-32602",
    "wait cancelled cancelled",
  ],
};

/** The labels of {@link runScript}, in order. */
export const SCRIPT = ["ok", "thrown", "isError", "unknown", "invalid", "cancelled"] as const;

/**
 * Calls one tool per outcome: ok, a handler that throws, an isError result, an unknown tool,
 * invalid arguments, and a call the client aborts once the handler runs. `tag` tells
 * concurrent scripts' `wait` calls apart.
 */
export async function runScript(client: Client, signals: WaitSignals, tag = ""): Promise<Seen[]> {
  const seen: Seen[] = [];
  const call = async (label: string, params: Parameters<Client["callTool"]>[0], options?: RequestOptions) => {
    try {
      seen.push({ label, result: await client.callTool(params, undefined, options) });
    } catch (error) {
      seen.push({ label, error: describeError(error) });
    }
  };
  await call("ok", { name: "echo", arguments: { text: `hello ${tag}` } });
  await call("thrown", { name: "explode", arguments: {} });
  await call("isError", { name: "refuse", arguments: {} });
  await call("unknown", { name: "no-such-tool", arguments: {} });
  await call("invalid", { name: "echo", arguments: { text: 42 } });
  const abort = new AbortController();
  const started = signals.startedCount(tag);
  const aborted = signals.abortedCount(tag);
  const cancelled = call("cancelled", { name: "wait", arguments: { tag } }, { signal: abort.signal });
  await signals.untilStarted(tag, started + 1);
  abort.abort("the user gave up");
  await cancelled;
  // The server handler sees the abort after the cancellation passed the instrumentation.
  await signals.untilAborted(tag, aborted + 1);
  return seen;
}

/** A connected client over a fresh in-memory pair. */
export async function connectInMemory(server: { connect(transport: InMemoryTransport): Promise<void> }): Promise<Client> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client(CLIENT_INFO);
  await client.connect(clientTransport);
  return client;
}
