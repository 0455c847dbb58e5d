/**
 * A context object outlives its query: callers reuse it, or spread it into the next query's
 * context. The id Tally made for a finished run must not name the next run (it would be
 * dropped as a duplicate, silently); tool calls still link to the run they belong to.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery, telemetryHooks, type AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import { createTelemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { drain, sqliteTelemetry } from "./harness.ts";
import { fire, post } from "./hook-inputs.ts";
import { success } from "./fixtures/single-runs.ts";
import { join } from "node:path";

afterEach(removeTempDirs);

/**
 * One query as the SDK runs it: the messages, with a tool call's PostToolUse hook fired
 * (and awaited, as the SDK awaits hooks) after the init message, then a pause so that
 * concurrent queries interleave.
 */
async function* queryWithTool(hooks: ReturnType<typeof telemetryHooks>, toolUseId: string): AsyncGenerator<SDKMessage, void, undefined> {
  for (const [i, message] of success.entries()) {
    yield message;
    if (i === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await fire(hooks, "PostToolUse", post("Grep", toolUseId, { content: [] }, 10));
    }
  }
}

/** Runs one query on `context` the way the README shows: hooks and instrumentQuery on the same object. */
async function runQuery(telemetry: ReturnType<typeof sqliteTelemetry>["telemetry"], context: AgentRunContext, toolUseId: string): Promise<void> {
  const hooks = telemetryHooks(telemetry, context);
  await drain(instrumentQuery(queryWithTool(hooks, toolUseId), telemetry, context));
}

describe("a context reused for the next query", () => {
  test("the same object, passed again: a new run id, both runs stored, each tool call linked to its own run", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = { repo: "octo-org/app", deliveryId: "d-1" };
    await runQuery(telemetry, context, "toolu_first");
    const firstId = context.executionId;
    await runQuery(telemetry, context, "toolu_second");
    expect(context.executionId).not.toBe(firstId);
    const executions = await rows("executions");
    expect(executions.map((r) => r.id)).toEqual([firstId, context.executionId]);
    const calls = await rows("tool_calls");
    expect(calls.map((r) => r.execution_id)).toEqual([firstId, context.executionId]);
    expect(telemetry.stats()).toMatchObject({ duplicates: 0, idCollisions: 0 });
  });

  test("spread into the next context ({ ...ctx, deliveryId: next }): the next run is its own", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const first: AgentRunContext = { repo: "octo-org/app", deliveryId: "d-1" };
    await runQuery(telemetry, first, "toolu_first");
    const second: AgentRunContext = { ...first, deliveryId: "d-2" };
    expect(second.executionId).toBe(first.executionId); // what the spread hands on
    await runQuery(telemetry, second, "toolu_second");
    expect(second.executionId).not.toBe(first.executionId);
    const executions = await rows("executions");
    expect(executions.map((r) => [r.id, r.delivery_id])).toEqual([[first.executionId, "d-1"], [second.executionId, "d-2"]]);
    expect((await rows("tool_calls")).map((r) => r.execution_id)).toEqual([first.executionId, second.executionId]);
  });

  test("concurrent runs spread from one base context (that ran a query itself): every run recorded, tool calls linked right", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const base: AgentRunContext = { repo: "octo-org/app" };
    await runQuery(telemetry, base, "toolu_base");
    const contexts = [1, 2, 3, 4].map((n): AgentRunContext => ({ ...base, deliveryId: `d-${n}` }));
    await Promise.all(contexts.map((context, n) => runQuery(telemetry, context, `toolu_${n}`)));
    const ids = [base, ...contexts].map((c) => c.executionId);
    expect(new Set(ids).size).toBe(5);
    const executions = await rows("executions");
    expect(executions.map((r) => r.id).sort()).toEqual([...ids].sort());
    const linked = new Map((await rows("tool_calls")).map((r) => [r.execution_id, r]));
    expect([...linked.keys()].sort()).toEqual([...ids].sort());
    expect(telemetry.stats().duplicates).toBe(0);
  });

  test("an id the caller chose is kept, also when the run is replayed: stored once, the replay counted as a duplicate", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    await runQuery(telemetry, { executionId: "review-42-attempt-1" }, "toolu_a");
    await runQuery(telemetry, { executionId: "review-42-attempt-1" }, "toolu_b");
    expect((await rows("executions")).map((r) => r.id)).toEqual(["review-42-attempt-1"]);
    // Same content: a replay, not a collision.
    expect(telemetry.stats()).toMatchObject({ duplicates: 1, idCollisions: 0 });
  });
});

describe("duplicates are visible", () => {
  function loggingTelemetry() {
    const warnings: { fields: string[]; message: string }[] = [];
    const logger = {
      error() {},
      info() {},
      warn(obj: { fields?: string[] }, message: string) {
        if (obj.fields) warnings.push({ fields: obj.fields, message });
      },
    };
    const store = openSqliteStore({ path: join(tempDir(), "tally.db") });
    return { telemetry: createTelemetry({ store, logger, flushOnExit: false }), warnings };
  }

  test("a record with a stored id but other content is a probable collision: counted, logged once per episode by field, never by value", async () => {
    const { telemetry, warnings } = loggingTelemetry();
    const run = { id: "run-1", model: "claude-sonnet-4-5", conclusion: "success", inputTokens: 100, outputTokens: 50, repo: "secret/repo" };
    telemetry.recordExecution(run);
    await telemetry.flush();
    telemetry.recordExecution(run); // a replay: same content
    await telemetry.flush();
    expect(telemetry.stats()).toMatchObject({ written: 2, duplicates: 1, idCollisions: 0 });
    expect(warnings).toEqual([]);

    telemetry.recordExecution({ ...run, model: "claude-opus-4-1", outputTokens: 999 });
    telemetry.recordExecution({ ...run, conclusion: "failure" });
    await telemetry.flush();
    telemetry.recordExecution({ ...run, costUsd: 12.5 });
    await telemetry.flush();
    expect(telemetry.stats()).toMatchObject({ duplicates: 4, idCollisions: 3 });
    // One episode (consecutive batches with collisions): one warning, naming fields only.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toEqual(["model", "conclusion"].map((f) => `execution.${f}`));
    expect(warnings[0]!.message).toContain("execution.model");
    expect(JSON.stringify(warnings)).not.toContain("claude-opus-4-1");
    expect(JSON.stringify(warnings)).not.toContain("secret/repo");

    // A batch without collisions ends the episode; the next collision is logged again.
    telemetry.recordExecution({ ...run, id: "run-2" });
    await telemetry.flush();
    telemetry.recordToolCall({ id: "run-2-call", toolName: "grep", outcome: "ok" });
    await telemetry.flush();
    telemetry.recordToolCall({ id: "run-2-call", toolName: "search", outcome: "ok" });
    await telemetry.flush();
    expect(warnings.map((w) => w.fields)).toEqual([["execution.model", "execution.conclusion"], ["toolCall.toolName"]]);
    expect(telemetry.stats().idCollisions).toBe(4);
  });
});
