import { afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery, type AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { drain, manualNow, replay, sqliteTelemetry } from "./harness.ts";
import { HAIKU, SESSION_ID, SONNET } from "./fixtures/pieces.ts";
import { OPUS, apiErrorSuccess, beforeThrow, maxTurns, multipleModels, success } from "./fixtures/single-runs.ts";
import { unknownTypes } from "./fixtures/unknown-types.ts";
import { RECORDED_SESSION_ID, notLoggedIn, notLoggedInError } from "./fixtures/not-logged-in.ts";

afterEach(removeTempDirs);

/** The webhook identity the review bot passes. */
function reviewContext(): AgentRunContext {
  return {
    deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    eventType: "pull_request.opened",
    repo: "octo-org/app",
    prNumber: 42,
    model: "claude-sonnet-4-5",
  };
}

const identity = {
  delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  repo: "octo-org/app",
  pr_number: 42,
  event_type: "pull_request.opened",
  provider: "anthropic",
};

/** Runs `messages` through instrumentQuery; returns what the caller saw and the rows. */
async function run(messages: SDKMessage[], context = reviewContext()) {
  const { telemetry, rows } = sqliteTelemetry();
  const seen = await drain(instrumentQuery(replay(messages), telemetry, context));
  return { seen, rows: await rows("executions"), context };
}

function expectSameStream(seen: unknown[], messages: unknown[]) {
  expect(seen).toEqual(messages);
  expect(seen.length).toBe(messages.length);
  seen.forEach((message, i) => expect(message).toBe(messages[i]));
}

describe("one run, one result: one execution with the exact row", () => {
  test("success: tokens, reported cost, turns, stop reason, session, duration, webhook identity", async () => {
    const { seen, rows, context } = await run(success);
    expectSameStream(seen, success);
    expect(rows).toEqual([
      {
        id: context.executionId,
        ...identity,
        model: SONNET,
        input_tokens: 38,
        output_tokens: 2_140,
        cache_read_tokens: 61_234,
        cache_creation_tokens: 18_452,
        duration_ms: 48_213,
        cost_usd: 0.1197792,
        cost_source: "reported",
        conclusion: "success",
        session_id: SESSION_ID,
        num_turns: 7,
        stop_reason: "end_turn",
        attributes: null,
      },
    ]);
  });

  test("error_max_turns: a failure even with is_error false; the subtype is kept as an attribute", async () => {
    const { seen, rows, context } = await run(maxTurns);
    expectSameStream(seen, maxTurns);
    expect(rows).toEqual([
      {
        id: context.executionId,
        ...identity,
        model: SONNET,
        input_tokens: 9,
        output_tokens: 655,
        cache_read_tokens: 30_120,
        cache_creation_tokens: 5_412,
        duration_ms: 19_804,
        cost_usd: 0.039183,
        cost_source: "reported",
        conclusion: "failure",
        session_id: SESSION_ID,
        num_turns: 3,
        stop_reason: "tool_use",
        attributes: JSON.stringify({ resultSubtype: "error_max_turns" }),
      },
    ]);
  });

  test("is_error on a success subtype: a failure; no usage, so the init model; api_retry messages counted", async () => {
    const { seen, rows, context } = await run(apiErrorSuccess);
    expectSameStream(seen, apiErrorSuccess);
    expect(rows).toEqual([
      {
        id: context.executionId,
        ...identity,
        model: SONNET,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        duration_ms: 7_519,
        cost_usd: 0,
        cost_source: "reported",
        conclusion: "failure",
        session_id: SESSION_ID,
        num_turns: 1,
        stop_reason: null,
        attributes: JSON.stringify({ apiRetries: 3, apiErrorStatus: 529 }),
      },
    ]);
  });

  test("several models: the one with most output tokens is primary; tokens are summed over all (subagents too)", async () => {
    const { seen, rows } = await run(multipleModels);
    expectSameStream(seen, multipleModels);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      model: SONNET,
      input_tokens: 5_210 + 42 + 17,
      output_tokens: 412 + 1_873 + 1_200,
      cache_read_tokens: 88_410 + 9_870,
      cache_creation_tokens: 21_007 + 3_214,
      cost_usd: 0.30611275,
      cost_source: "reported",
      conclusion: "success",
      num_turns: 11,
    });
    expect([HAIKU, OPUS]).not.toContain(rows[0]!.model as string);
  });

  test("unknown and ignored message types pass through untouched, in order; the run is recorded once", async () => {
    const { seen, rows } = await run(unknownTypes);
    expectSameStream(seen, unknownTypes);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: SONNET, output_tokens: 203, cost_usd: 0.0149148, conclusion: "success", attributes: null });
  });

  test("the context's attributes are stored with the run, next to what Tally observed", async () => {
    const context = { ...reviewContext(), attributes: { handler: "review", attempt: 2 } };
    const { rows } = await run(apiErrorSuccess, context);
    expect(JSON.parse(rows[0]!.attributes as string)).toEqual({ handler: "review", attempt: 2, apiRetries: 3, apiErrorStatus: 529 });
  });

  test("without a context: no identity columns, a fresh run id", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    await drain(instrumentQuery(replay(success), telemetry));
    const [row] = await rows("executions");
    expect(row).toMatchObject({ delivery_id: null, repo: "", pr_number: null, event_type: "", model: SONNET, conclusion: "success" });
    expect(row!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  });
});

describe("the SDK throws mid-stream", () => {
  test("the same error object reaches the caller after the same messages; the run is recorded as error with the configured model and the tokens streamed before it", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const clock = manualNow();
    const crash = new Error("Claude Code process exited with code 1");
    const context = reviewContext();
    const seen: SDKMessage[] = [];
    let caught: unknown;
    try {
      for await (const message of instrumentQuery(replay(beforeThrow, crash), telemetry, context, { now: clock.now })) {
        seen.push(message);
        clock.ms += 1_250;
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(crash);
    expectSameStream(seen, beforeThrow);
    // The one response streamed before the crash was billed: its usage is the run's.
    const streamed = beforeThrow.flatMap((m) => (m.type === "assistant" ? [m.message.usage] : []));
    expect(streamed).toHaveLength(1);
    const usage = streamed[0]!;
    const tokens = {
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cacheReadTokens: usage.cache_read_input_tokens ?? 0,
      cacheCreationTokens: usage.cache_creation_input_tokens ?? 0,
    };
    expect(tokens.outputTokens).toBeGreaterThan(0);
    const priced = createPricer({}).price({ provider: "anthropic", model: "claude-sonnet-4-5", createdAt: Date.now(), ...tokens });
    expect(await rows("executions")).toEqual([
      {
        id: context.executionId,
        ...identity,
        model: "claude-sonnet-4-5",
        input_tokens: tokens.inputTokens,
        output_tokens: tokens.outputTokens,
        cache_read_tokens: tokens.cacheReadTokens,
        cache_creation_tokens: tokens.cacheCreationTokens,
        duration_ms: 3_750,
        // No reported cost: Tally prices the streamed tokens itself.
        cost_usd: priced.costUsd,
        cost_source: "computed",
        conclusion: "error",
        session_id: SESSION_ID,
        num_turns: null,
        stop_reason: null,
        attributes: JSON.stringify({ apiRetries: 1, errorType: "Error" }),
      },
    ]);
  });

  test("with no configured model the init message's model is recorded; the error's name is its type, never its message", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const aborted = new DOMException("The operation was aborted.", "AbortError");
    const context: AgentRunContext = { repo: "octo-org/app" };
    const thrown = await drain(instrumentQuery(replay(beforeThrow, aborted), telemetry, context)).catch((error: unknown) => error);
    expect(thrown).toBe(aborted);
    const [row] = await rows("executions");
    expect(row).toMatchObject({ model: SONNET, conclusion: "error", attributes: JSON.stringify({ apiRetries: 1, errorType: "AbortError" }) });
  });

  test("a throw before the first message (spawn or auth failure) is recorded too, and a non-Error is re-thrown as is", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context = reviewContext();
    const thrown = await drain(instrumentQuery(replay([], "spawn claude ENOENT"), telemetry, context)).catch((error: unknown) => error);
    expect(thrown).toBe("spawn claude ENOENT");
    const [row] = await rows("executions");
    expect(row).toMatchObject({ model: "claude-sonnet-4-5", conclusion: "error", session_id: null, attributes: JSON.stringify({ errorType: "string" }) });
  });

  test("a throw after the result (the process exiting) records nothing more", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const exit = new Error("Claude Code process exited with code 143");
    const thrown = await drain(instrumentQuery(replay(success, exit), telemetry, reviewContext())).catch((error: unknown) => error);
    expect(thrown).toBe(exit);
    expect((await rows("executions")).map((r) => r.conclusion)).toEqual(["success"]);
  });

  test("recorded from the real SDK without credentials: an is_error result, then a throw; one failure, the error passed on", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context = reviewContext();
    const thrownBySdk = notLoggedInError();
    const seen: SDKMessage[] = [];
    let caught: unknown;
    try {
      for await (const message of instrumentQuery(replay(notLoggedIn, thrownBySdk), telemetry, context)) seen.push(message);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(thrownBySdk);
    expectSameStream(seen, notLoggedIn);
    expect(await rows("executions")).toEqual([
      {
        id: context.executionId,
        ...identity,
        // No usage: the init message's model (here the configured alias).
        model: "claude-sonnet-4-5",
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        duration_ms: 836,
        cost_usd: 0,
        cost_source: "reported",
        conclusion: "failure",
        session_id: RECORDED_SESSION_ID,
        num_turns: 1,
        stop_reason: "stop_sequence",
        attributes: null,
      },
    ]);
  });
});
