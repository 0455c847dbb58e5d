/**
 * Issue 14: an orderly stop records what is still in flight. An instrumented MCP server (the
 * built package, on Bun and on Node) with open Streamable HTTP, stdio and in-memory sessions,
 * each with a tool call still running, is stopped with SIGTERM — by the README's handler
 * (`await telemetry.shutdown()`) or by `process.exit(0)` alone: every session is ended, every
 * running call is one `cancelled` row with the time it ran, and nothing is dropped.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { cleanupTempDirs, spawnFixture, tempDir } from "./helpers.ts";

afterAll(cleanupTempDirs);

const NODE = Bun.which("node");
const runtimes: [string, string][] = [["Bun", process.execPath], ...(NODE === null ? [] : [["Node", NODE] as [string, string]])];

const stdioLines = [
  { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "stdio-client", version: "2.0.0" } } },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "wait", arguments: {} } },
];

describe("SIGTERM with MCP sessions open and tool calls running", () => {
  test("there is a Node to run the built package with", () => {
    expect(NODE).not.toBeNull();
  });
  for (const [runtime, executable] of runtimes) {
    for (const mode of ["shutdown", "exit"] as const) {
      const how = mode === "shutdown" ? "the README's handler (await shutdown())" : "process.exit(0) without shutdown()";
      test(`${runtime}, ${how}: every session ended, every running call cancelled with its duration, nothing dropped`, async () => {
        const db = join(tempDir(), "tally.db");
        const child = spawnFixture("mcp-in-flight.mjs", [db, mode], {}, undefined, executable);
        const port = Number((await child.waitForLine(/^ready \d+$/)).split(" ")[1]);
        for (const line of stdioLines) child.proc.stdin.write(`${JSON.stringify(line)}\n`);
        child.proc.stdin.flush();
        const client = new Client({ name: "http-client", version: "3.0.0" });
        await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
        // Never settles here: the client would retry its stream after the server is gone.
        void client.callTool({ name: "wait", arguments: {} }, undefined, { timeout: 60_000 }).catch(() => {});
        await child.waitForLine(/^running 3$/);
        await new Promise((resolve) => setTimeout(resolve, 30)); // the calls have run for a while
        child.proc.kill("SIGTERM");
        expect(await child.exitWithin(15_000)).toBe(0);
        const stats = JSON.parse((await child.waitForLine(/^stats /)).slice(6));
        expect(stats.dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });

        const database = new Database(db, { readonly: true });
        try {
          const sessions = database.query("SELECT client_name, ended_at FROM sessions ORDER BY client_name").all() as { client_name: string; ended_at: number | null }[];
          expect(sessions.map((s) => s.client_name)).toEqual(["http-client", "in-memory-client", "stdio-client"]);
          for (const session of sessions) expect(session.ended_at).not.toBeNull();
          const calls = database.query("SELECT tool_name, outcome, error_type, duration_ms FROM tool_calls").all() as { tool_name: string; outcome: string; error_type: string; duration_ms: number }[];
          expect(calls).toHaveLength(3);
          for (const call of calls) {
            expect(call).toMatchObject({ tool_name: "wait", outcome: "cancelled", error_type: "shutdown" });
            expect(call.duration_ms).toBeGreaterThanOrEqual(20);
          }
        } finally {
          database.close();
        }
        void client.close().catch(() => {});
      }, 30_000);
    }
  }
});
