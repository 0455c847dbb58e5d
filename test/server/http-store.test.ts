/**
 * The http store against a real `tally serve` on loopback: records recorded on one side are
 * stored exactly once on the other, through retries, a server that answers 503, a server
 * that is not up yet, and items the server refuses.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTelemetry } from "../../src/core/telemetry.ts";
import { startServer, type RunningServer } from "../../src/server/start.ts";
import { openHttpStore } from "../../src/store/http/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { countRows, queryRows } from "../support/sql.ts";
import { tempDir } from "../support/temp-dir.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(path = join(tempDir(), "tally.db"), port = 0, options: { ingestToken?: string; readToken?: string } = {}) {
  const store = openSqliteStore({ path, retentionDays: 0 });
  const running = await startServer({ store, port, ...options });
  cleanup.push(() => store.close(), () => running.close());
  return { store, running, path };
}

const rows = countRows;

describe("openHttpStore", () => {
  test("every kind arrives once, with the server's pricing; a reported cost stays reported", async () => {
    const { store, running } = await serve();
    const telemetry = createTelemetry({ store: openHttpStore({ url: running.url }), flushOnExit: false });
    telemetry.startSession("s1", { source: "mcp", client: { name: "inspector", version: "0.1" } });
    telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 1000, outputTokens: 100, sessionId: "s1" });
    telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", costUsd: 0.5, attributes: { pr: 7 } });
    telemetry.recordExecution({ model: "model-nobody-prices", conclusion: "success", inputTokens: 10 });
    telemetry.recordToolCall({ toolName: "search", outcome: "tool_error", errorType: "timeout", durationMs: 30, sessionId: "s1" });
    telemetry.recordRateLimitEvent({ resource: "search", degradation: "partial", deliveryId: "d1", eventType: "pull_request", retryAttempts: 2 });
    telemetry.recordCacheEvent({ cache: "diffs", outcome: "hit" });
    telemetry.endSession("s1");
    await telemetry.flush();
    expect(telemetry.stats().written).toBe(8);
    expect(telemetry.stats().dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
    const costs = queryRows(store, "SELECT model, cost_source, cost_usd, attributes FROM executions ORDER BY model, cost_source");
    expect(costs.map((r) => [r.model, r.cost_source])).toEqual([
      ["claude-sonnet-4-5", "computed"],
      ["claude-sonnet-4-5", "reported"],
      ["model-nobody-prices", "unpriced"],
    ]);
    expect(costs[1]!.cost_usd).toBe(0.5);
    expect(costs[1]!.attributes).toBe('{"pr":7}');
    const session = queryRows(store, "SELECT ended_at, client_name FROM sessions")[0]!;
    expect(session.client_name).toBe("inspector");
    expect(session.ended_at).not.toBeNull();
    expect(rows(store, "tool_calls")).toBe(1);
    expect(rows(store, "rate_limit_events")).toBe(1);
    expect(rows(store, "cache_events")).toBe(1);
    await telemetry.shutdown();
  });

  test("a 503 and a lost answer are retried; each record is stored once", async () => {
    const { store, running } = await serve();
    let calls = 0;
    const flaky = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      calls++;
      if (calls === 1) return new Response('{"error":{"message":"busy"}}', { status: 503, headers: { "retry-after": "0" } });
      const response = await fetch(input, init);
      // The second answer is lost after the server committed: the retry must not count twice.
      if (calls === 2) throw new TypeError("socket hang up");
      return response;
    };
    const telemetry = createTelemetry({ store: openHttpStore({ url: running.url, fetch: flaky }), flushOnExit: false, retryBaseDelayMs: 1 });
    for (let i = 0; i < 20; i++) telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", inputTokens: i });
    await telemetry.shutdown({ timeoutMs: 5000 });
    expect(calls).toBe(3);
    expect(rows(store, "executions")).toBe(20);
    expect(telemetry.stats().written).toBe(20);
    expect(telemetry.stats().duplicates).toBe(20);
  });

  test("a server that is not up yet: records wait and arrive once it is", async () => {
    const probe = await serve();
    const port = probe.running.port;
    await probe.running.close();
    const telemetry = createTelemetry({ store: openHttpStore({ url: `http://127.0.0.1:${port}` }), flushOnExit: false, retryBaseDelayMs: 20, maxRetryDelayMs: 50 });
    for (let i = 0; i < 5; i++) telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success" });
    await telemetry.flush();
    expect(telemetry.stats().queued).toBe(5);
    expect(telemetry.stats().lastError).toMatch(/failed/);
    const { store } = await serve(join(tempDir(), "later.db"), port);
    await telemetry.shutdown({ timeoutMs: 5000 });
    expect(rows(store, "executions")).toBe(5);
    expect(telemetry.stats().dropped.writeFailed).toBe(0);
  });

  test("a wrong token drops and counts the batch (it will not heal by retrying)", async () => {
    const { store, running } = await serve(undefined, 0, { ingestToken: "right-token-0123456789" });
    const telemetry = createTelemetry({ store: openHttpStore({ url: running.url, token: "wrong-token-0123456789" }), flushOnExit: false });
    telemetry.recordExecution({ model: "m", conclusion: "success" });
    await telemetry.flush();
    expect(telemetry.stats().dropped.writeFailed).toBe(1);
    expect(telemetry.stats().lastError).toMatch(/401/);
    expect(rows(store, "executions")).toBe(0);
    await telemetry.shutdown();
  });

  test("bad options throw at once", () => {
    expect(() => openHttpStore({ url: "not a url" })).toThrow(/valid url/);
    expect(() => openHttpStore({ url: "ftp://x" })).toThrow(/http/);
    expect(() => openHttpStore({ url: "http://x", timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
