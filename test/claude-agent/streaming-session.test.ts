import { afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage, SDKResultSuccess } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery, type AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { drain, replay, sqliteTelemetry } from "./harness.ts";
import { SESSION_ID, SONNET, initMessage, modelUsage, uuid } from "./fixtures/pieces.ts";
import { firstResult, secondResult, streamingSession } from "./fixtures/streaming-session.ts";

afterEach(removeTempDirs);

describe("streaming-input session: cumulative totals become one execution per result", () => {
  test("each execution records the increase since the previous result, under its own id", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = { repo: "octo-org/app", prNumber: 42, eventType: "issue_comment.created" };
    const idsAtResults: string[] = [];
    const seen: SDKMessage[] = [];
    for await (const message of instrumentQuery(replay(streamingSession), telemetry, context)) {
      seen.push(message);
      if (message.type === "result") idsAtResults.push(context.executionId!);
    }
    expect(seen).toEqual(streamingSession);
    seen.forEach((message, i) => expect(message).toBe(streamingSession[i]!));
    expect(new Set(idsAtResults).size).toBe(2);
    // After the stream, the context names the last recorded run.
    expect(context.executionId).toBe(idsAtResults[1]);

    const common = {
      delivery_id: null,
      repo: "octo-org/app",
      pr_number: 42,
      event_type: "issue_comment.created",
      provider: "anthropic",
      model: SONNET,
      cost_source: "reported",
      conclusion: "success",
      session_id: SESSION_ID,
      stop_reason: "end_turn",
      attributes: null,
    };
    expect(await rows("executions")).toEqual([
      {
        ...common,
        id: idsAtResults[0],
        input_tokens: 24,
        output_tokens: 812,
        cache_read_tokens: 20_011,
        cache_creation_tokens: 9_120,
        duration_ms: 14_211,
        cost_usd: 0.0524553,
        num_turns: 2,
      },
      {
        ...common,
        id: idsAtResults[1],
        // Sonnet 51 − 24 and Haiku's 730, new in this turn.
        input_tokens: 27 + 730,
        output_tokens: 1_178 + 41,
        cache_read_tokens: 38_112,
        cache_creation_tokens: 2_884,
        duration_ms: 22_876,
        // 0.0933899 − 0.0524553, rounded to the nano-dollar.
        cost_usd: 0.0409346,
        num_turns: 4,
      },
    ]);
  });

  test("the increases add up to the session's last totals", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    await drain(instrumentQuery(replay(streamingSession), telemetry));
    const all = await rows("executions");
    const sum = (column: string) => all.reduce((total, row) => total + (row[column] as number), 0);
    expect(sum("output_tokens")).toBe(1_990 + 41);
    expect(sum("cost_usd")).toBeCloseTo(secondResult.total_cost_usd, 12);
  });

  test("totals that go down (a mid-session /clear resets them) are taken as this run's alone", async () => {
    const afterClear = {
      ...firstResult,
      uuid: uuid(21),
      total_cost_usd: 0.0101,
      modelUsage: { [SONNET]: modelUsage({ input: 5, output: 90, cacheRead: 8_000, cacheCreation: 1_000, costUSD: 0.0101 }) },
    } satisfies SDKResultSuccess;
    const { telemetry, rows } = sqliteTelemetry();
    await drain(instrumentQuery(replay<SDKMessage>([initMessage(1), firstResult, afterClear]), telemetry));
    expect((await rows("executions")).map((r) => [r.output_tokens, r.cost_usd])).toEqual([
      [812, 0.0524553],
      [90, 0.0101],
    ]);
  });

  test("a result that adds no usage is a run with no tokens, named after the init model", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    await drain(instrumentQuery(replay<SDKMessage>([initMessage(1), firstResult, { ...firstResult, uuid: uuid(7), num_turns: 0 }]), telemetry));
    const second = (await rows("executions"))[1]!;
    expect(second).toMatchObject({ model: SONNET, input_tokens: 0, output_tokens: 0, cost_usd: 0, num_turns: 0 });
  });

  test("a stream that ends after the next prompt but before its result records that run as an error (no_result)", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = {};
    await drain(instrumentQuery(replay(streamingSession.slice(0, 8)), telemetry, context));
    const all = await rows("executions");
    // The second prompt started a run that never got its result: recorded as an error.
    expect(all.map((r) => r.conclusion)).toEqual(["success", "error"]);
    expect(all[1]).toMatchObject({ attributes: JSON.stringify({ errorType: "no_result" }), id: context.executionId });
    expect(all[1]!.id).not.toBe(all[0]!.id);
  });

  test("only system messages after the last result: no run, and the context keeps the recorded id", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = {};
    await drain(instrumentQuery(replay(streamingSession.slice(0, 7)), telemetry, context));
    const all = await rows("executions");
    expect(all).toHaveLength(1);
    expect(context.executionId).toBe(all[0]!.id as string);
  });
});
