import { afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery, type AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import type { Telemetry } from "../../src/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { brokenTelemetry, closableReplay, drain, manualNow, replay, sqliteTelemetry } from "./harness.ts";
import { SONNET } from "./fixtures/pieces.ts";
import { beforeThrow, success } from "./fixtures/single-runs.ts";
import { streamingSession } from "./fixtures/streaming-session.ts";

afterEach(removeTempDirs);

/** A telemetry stand-in whose every method throws (Tally's own never does). */
const throwingTelemetry = new Proxy({} as Telemetry, {
  get() {
    return () => {
      throw new Error("telemetry exploded");
    };
  },
});

describe("telemetry trouble never changes what the caller sees", () => {
  for (const [name, telemetry] of [
    ["a store that throws on every write", brokenTelemetry()],
    ["a telemetry whose methods throw", throwingTelemetry],
  ] as const) {
    test(`${name}: the same stream, and the SDK's own error, unchanged`, async () => {
      const seen = await drain(instrumentQuery(replay(streamingSession), telemetry, { repo: "octo-org/app" }));
      expect(seen).toEqual(streamingSession);
      seen.forEach((message, i) => expect(message).toBe(streamingSession[i]!));

      const crash = new Error("Claude Code process exited with code 1");
      const thrown = await drain(instrumentQuery(replay(beforeThrow, crash), telemetry)).catch((error: unknown) => error);
      expect(thrown).toBe(crash);
    });
  }

  test("the broken store's records are counted as failed writes, not thrown", async () => {
    const telemetry = brokenTelemetry();
    await drain(instrumentQuery(replay(success), telemetry));
    await telemetry.flush();
    expect(telemetry.stats().dropped.writeFailed).toBe(1);
  });

  test("messages unlike the SDK's types (null, numbers, throwing getters) pass through untouched", async () => {
    const hostile = [
      null,
      42,
      "text",
      { type: "result", get modelUsage(): never { throw new Error("getter"); } },
      { get type(): never { throw new Error("getter"); } },
      { type: "system", subtype: "init", model: { not: "a string" }, session_id: 7 },
      { type: "result", subtype: "success", modelUsage: { [SONNET]: { inputTokens: "12", outputTokens: -5, cacheReadInputTokens: NaN } }, total_cost_usd: "1" },
    ] as unknown as SDKMessage[];
    const { telemetry, rows } = sqliteTelemetry();
    const seen = await drain(instrumentQuery(replay(hostile), telemetry));
    expect(seen).toEqual(hostile);
    seen.forEach((message, i) => expect(message).toBe(hostile[i]!));
    // Only the last result was readable: odd counts are 0, an odd cost is left for Tally to price.
    expect(await rows("executions")).toMatchObject([
      { model: "unknown", conclusion: "success", input_tokens: 0, output_tokens: 0, cost_source: "unpriced", stop_reason: null, num_turns: null },
    ]);
  });

  test("a frozen context is used as is: the run is recorded under a fresh id, nothing throws", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context = Object.freeze({ repo: "octo-org/app" }) as AgentRunContext;
    const seen = await drain(instrumentQuery(replay(streamingSession), telemetry, context));
    expect(seen).toHaveLength(streamingSession.length);
    expect((await rows("executions")).map((r) => r.repo)).toEqual(["octo-org/app", "octo-org/app"]);
  });
});

describe("the caller stops early", () => {
  test("break mid-run closes the query and records the run as cancelled, with its measured duration", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const clock = manualNow();
    const { query, state } = closableReplay(success);
    const context: AgentRunContext = { model: "claude-sonnet-4-5" };
    for await (const message of instrumentQuery(query, telemetry, context, { now: clock.now })) {
      clock.ms += 400;
      if (message.type === "assistant") break;
    }
    expect(state.returned).toBe(true);
    expect(await rows("executions")).toMatchObject([
      { id: context.executionId, conclusion: "cancelled", model: "claude-sonnet-4-5", duration_ms: 800, attributes: null },
    ]);
  });

  test("break on the result message records the run once, as its result says", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = {};
    for await (const message of instrumentQuery(replay(success), telemetry, context)) {
      if (message.type === "result") break;
    }
    const all = await rows("executions");
    expect(all.map((r) => r.conclusion)).toEqual(["success"]);
    expect(context.executionId).toBe(all[0]!.id as string);
  });

  test("an error thrown into the generator reaches the query's cleanup and is not swallowed", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const { query, state } = closableReplay(success);
    const stream = instrumentQuery(query, telemetry);
    await stream.next();
    const mine = new Error("caller gave up");
    await expect(stream.throw(mine)).rejects.toBe(mine);
    expect(state.returned).toBe(true);
    expect((await rows("executions")).map((r) => r.conclusion)).toEqual(["cancelled"]);
  });
});

describe("the run id", () => {
  test("is in the context as soon as instrumentQuery is called, before the first message", () => {
    const context: AgentRunContext = {};
    instrumentQuery(replay(success), sqliteTelemetry().telemetry, context);
    expect(context.executionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("one given by the caller names the first run", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    await drain(instrumentQuery(replay(success), telemetry, { executionId: "review-42-attempt-1" }));
    expect((await rows("executions"))[0]!.id).toBe("review-42-attempt-1");
  });
});
