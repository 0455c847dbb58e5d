/**
 * The MCP servers under test: one McpServer and one low-level Server with the same tools, each
 * able to cover every outcome. `wait` blocks until the request is cancelled or the connection
 * closes, and says when it started and when it saw the abort.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export const SERVER_NAME = "fixture-server";

/**
 * Signals from the `wait` tool, per tag (its `tag` argument), so tests wait on events rather
 * than on time, and concurrent sessions each wait for their own call.
 */
export class WaitSignals {
  private readonly started = new Map<string, number>();
  private readonly aborted = new Map<string, number>();
  private waiters: (() => void)[] = [];

  startedCount(tag: string): number {
    return this.started.get(tag) ?? 0;
  }

  abortedCount(tag: string): number {
    return this.aborted.get(tag) ?? 0;
  }

  /** Resolves once `n` waits tagged `tag` have started. */
  untilStarted(tag: string, n: number): Promise<void> {
    return this.until(() => this.startedCount(tag) >= n);
  }

  /** Resolves once `n` waits tagged `tag` have seen their abort signal. */
  untilAborted(tag: string, n: number): Promise<void> {
    return this.until(() => this.abortedCount(tag) >= n);
  }

  onStarted(tag: string): void {
    this.started.set(tag, this.startedCount(tag) + 1);
    this.wake();
  }

  onAborted(tag: string): void {
    this.aborted.set(tag, this.abortedCount(tag) + 1);
    this.wake();
  }

  private wake(): void {
    for (const check of this.waiters.splice(0)) check();
  }

  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (done() ? resolve() : this.waiters.push(check));
      check();
    });
  }
}

function waitForAbort(signal: AbortSignal, signals: WaitSignals, tag: unknown): Promise<CallToolResult> {
  const key = typeof tag === "string" ? tag : "";
  signals.onStarted(key);
  return new Promise((resolve) => {
    const aborted = () => {
      signals.onAborted(key);
      resolve({ content: [{ type: "text", text: "aborted" }] });
    };
    if (signal.aborted) aborted();
    else signal.addEventListener("abort", aborted, { once: true });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An McpServer with echo, sleep, explode (throws), refuse (isError) and wait. */
export function makeMcpServer(signals = new WaitSignals()): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: "1.0.0" });
  server.registerTool("echo", { description: "echo", inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  server.registerTool("sleep", { inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await sleep(ms);
    return { content: [{ type: "text", text: "slept" }] };
  });
  server.registerTool("explode", {}, () => {
    throw new Error("secret-explosion-text");
  });
  server.registerTool("refuse", {}, () => ({ content: [{ type: "text", text: "refused" }], isError: true }));
  server.registerTool("wait", { inputSchema: { tag: z.string().optional() } }, ({ tag }, extra) => waitForAbort(extra.signal, signals, tag));
  return server;
}

/** A low-level Server with the same tools, doing by hand what McpServer does for it. */
export function makeLowLevelServer(signals = new WaitSignals()): Server {
  const server = new Server({ name: SERVER_NAME, version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: ["echo", "sleep", "explode", "refuse", "wait"].map((name) => ({ name, inputSchema: { type: "object" as const } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const args = request.params.arguments ?? {};
    switch (request.params.name) {
      case "echo":
        if (typeof args.text !== "string") throw new McpError(ErrorCode.InvalidParams, "text must be a string");
        return { content: [{ type: "text", text: args.text }] };
      case "sleep":
        await sleep(Number(args.ms));
        return { content: [{ type: "text", text: "slept" }] };
      case "explode":
        throw new Error("secret-explosion-text");
      case "refuse":
        return { content: [{ type: "text", text: "refused" }], isError: true };
      case "wait":
        return waitForAbort(extra.signal, signals, args.tag);
      default:
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    }
  });
  return server;
}

export type ServerKind = "McpServer" | "Server";

/** A fresh server of the kind, with its `wait` signals; both are connectable the same way. */
export function makeServer(kind: ServerKind, signals = new WaitSignals()): McpServer | Server {
  return kind === "McpServer" ? makeMcpServer(signals) : makeLowLevelServer(signals);
}
