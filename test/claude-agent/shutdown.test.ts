/**
 * Issue 14 for the Agent SDK: a query still streaming when the service shuts down is recorded
 * as one `cancelled` run with the tokens of the responses streamed so far (each response once,
 * its latest snapshot), and the caller's loop, resumed later, records nothing more.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery } from "../../src/capture/claude-agent/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { sqliteTelemetry } from "./harness.ts";
import { assistantText, assistantToolUse, initMessage } from "./fixtures/pieces.ts";

afterEach(removeTempDirs);

/** Yields `messages`, then waits until `release` is called (a model still thinking), then ends. */
function stalledQuery(messages: SDKMessage[]) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* stream(): AsyncGenerator<SDKMessage, void, undefined> {
    yield* messages;
    await released;
  }
  return { stream: stream(), release };
}

describe("shutdown() while instrumentQuery still streams", () => {
  test("one cancelled run with the tokens streamed so far; nothing more when the loop resumes", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const first = assistantToolUse(2, "toolu_1", "mcp__github__get_file", { path: "a.ts" });
    // The same response again, a later snapshot (more output), then a second response.
    const firstLater = { ...first, message: { ...first.message, usage: { ...first.message.usage, output_tokens: 120 } } } satisfies SDKMessage;
    const second = assistantText(3, "Looking further…");
    const secondUsage = { ...second.message.usage, input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 };
    const secondResponse = { ...second, message: { ...second.message, id: "msg_second", usage: secondUsage } } satisfies SDKMessage;
    const query = stalledQuery([initMessage(1), first, firstLater, secondResponse]);
    const seen: SDKMessage[] = [];
    const loop = (async () => {
      for await (const message of instrumentQuery(query.stream, telemetry, { repo: "acme/api", eventType: "pull_request.opened" })) seen.push(message);
    })();
    while (seen.length < 4) await new Promise((resolve) => setTimeout(resolve, 1));

    await telemetry.shutdown();
    query.release();
    await loop;

    const [row, ...others] = await rows("executions");
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      repo: "acme/api",
      conclusion: "cancelled",
      input_tokens: first.message.usage.input_tokens + 10,
      output_tokens: 120 + 7,
      cache_read_tokens: first.message.usage.cache_read_input_tokens! + 100,
      cache_creation_tokens: first.message.usage.cache_creation_input_tokens! + 0,
      cost_source: "computed",
    });
    expect(JSON.parse(row!.attributes as string)).toEqual({ errorType: "shutdown" });
    expect(telemetry.stats().dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
  });

  test("a query that already ended is not recorded again at shutdown", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const query = stalledQuery([initMessage(1)]);
    query.release();
    for await (const _ of instrumentQuery(query.stream, telemetry, {})) {
      // drain
    }
    await telemetry.shutdown();
    const executions = await rows("executions");
    expect(executions.map((r) => r.conclusion)).toEqual(["error"]); // ended without a result: no_result
    expect(telemetry.stats().dropped.afterShutdown).toBe(0);
  });
});
