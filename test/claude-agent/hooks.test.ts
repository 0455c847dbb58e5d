import { afterEach, describe, expect, test } from "bun:test";
import type { HookInput, Options, SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { instrumentQuery, telemetryHooks, type AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { brokenTelemetry, manualNow, replay, sqliteTelemetry } from "./harness.ts";
import { failure, fire, post, pre } from "./hook-inputs.ts";
import { SESSION_ID } from "./fixtures/pieces.ts";
import { streamingSession } from "./fixtures/streaming-session.ts";

afterEach(removeTempDirs);

describe("telemetryHooks: one tool_calls row per tool use", () => {
  test("the hooks object is what Options['hooks'] accepts, with one matcher per tool event", () => {
    const { telemetry } = sqliteTelemetry();
    const options: Options = { hooks: telemetryHooks(telemetry, {}) };
    expect(Object.keys(options.hooks!).sort()).toEqual(["PostToolUse", "PostToolUseFailure", "PreToolUse"]);
  });

  test("an MCP tool: server and bare tool name from mcp__<server>__<tool>, the SDK's duration, ok, linked to the run", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = { repo: "octo-org/app" };
    const hooks = telemetryHooks(telemetry, context);
    const input = { owner: "octo-org", repo: "app", pull_number: 42 };
    expect(await fire(hooks, "PreToolUse", pre("mcp__github__get_pull_request_diff", "toolu_01DiffA", input))).toEqual([{ continue: true }]);
    expect(await fire(hooks, "PostToolUse", post("mcp__github__get_pull_request_diff", "toolu_01DiffA", { content: [] }, 412))).toEqual([
      { continue: true },
    ]);
    const [row] = await rows("tool_calls");
    expect(row).toEqual({
      id: expect.any(String),
      session_id: SESSION_ID,
      execution_id: context.executionId,
      server: "github",
      tool_name: "get_pull_request_diff",
      duration_ms: 412,
      outcome: "ok",
      error_type: null,
      input_bytes: null,
      output_bytes: null,
      attributes: null,
    });
    expect(context.executionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a built-in tool without a reported duration: server '', duration measured from PreToolUse", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const clock = manualNow();
    const hooks = telemetryHooks(telemetry, {}, { now: clock.now });
    await fire(hooks, "PreToolUse", pre("Bash", "toolu_01BashA", { command: "bun test" }));
    clock.ms += 2_345;
    await fire(hooks, "PostToolUse", post("Bash", "toolu_01BashA", { stdout: "12 pass", stderr: "", interrupted: false }));
    expect(await rows("tool_calls")).toMatchObject([{ server: "", tool_name: "Bash", duration_ms: 2_345, outcome: "ok" }]);
  });

  test("PostToolUseFailure is a tool_error; an interrupt is cancelled; the error text is never stored", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const hooks = telemetryHooks(telemetry, {});
    await fire(hooks, "PreToolUse", pre("Read", "toolu_01ReadA", { file_path: "/etc/shadow" }));
    await fire(hooks, "PostToolUseFailure", failure("Read", "toolu_01ReadA", "EACCES: permission denied, open '/etc/shadow'", { duration_ms: 3 }));
    await fire(hooks, "PreToolUse", pre("Bash", "toolu_01BashB", { command: "sleep 600" }));
    await fire(hooks, "PostToolUseFailure", failure("Bash", "toolu_01BashB", "Interrupted by user", { is_interrupt: true, duration_ms: 15_000 }));
    const all = await rows("tool_calls");
    expect(all).toMatchObject([
      { tool_name: "Read", outcome: "tool_error", error_type: null, duration_ms: 3 },
      { tool_name: "Bash", outcome: "cancelled", error_type: "interrupt", duration_ms: 15_000 },
    ]);
    expect(JSON.stringify(all)).not.toContain("shadow");
  });

  test("an MCP result with isError: true is a tool_error", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const hooks = telemetryHooks(telemetry, {});
    const response = { content: [{ type: "text", text: "Not Found" }], isError: true };
    await fire(hooks, "PostToolUse", post("mcp__github__get_issue", "toolu_01IssueA", response, 180));
    expect(await rows("tool_calls")).toMatchObject([{ server: "github", tool_name: "get_issue", outcome: "tool_error" }]);
  });

  test("the hook's mcp_server provenance names the server as configured", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const hooks = telemetryHooks(telemetry, {});
    const input = post("mcp__review_tools__post_summary", "toolu_01SumA", "ok", 20);
    input.mcp_server = { name: "review-tools", source: "sdk" };
    await fire(hooks, "PostToolUse", input);
    expect(await rows("tool_calls")).toMatchObject([{ server: "review-tools", tool_name: "post_summary" }]);
  });

  test("hostile input and a store that throws: every hook still resolves to { continue: true }", async () => {
    for (const telemetry of [brokenTelemetry(), sqliteTelemetry().telemetry]) {
      const hooks = telemetryHooks(telemetry, {});
      for (const input of [null, undefined, 7, {}, { tool_name: 12 }, { tool_name: "x", get tool_use_id(): never { throw new Error("getter"); } }]) {
        for (const event of ["PreToolUse", "PostToolUse", "PostToolUseFailure"] as const) {
          expect(await fire(hooks, event, input as unknown as HookInput)).toEqual([{ continue: true }]);
        }
      }
      await telemetry.flush();
    }
  });

  test("a PreToolUse that never ends is forgotten once 1024 newer calls are pending", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const clock = manualNow();
    const hooks = telemetryHooks(telemetry, {}, { now: clock.now });
    await fire(hooks, "PreToolUse", pre("Bash", "toolu_first", {}));
    for (let i = 0; i < 1024; i++) await fire(hooks, "PreToolUse", pre("Bash", `toolu_${i}`, {}));
    clock.ms += 50;
    await fire(hooks, "PostToolUse", post("Bash", "toolu_first", ""));
    await fire(hooks, "PostToolUse", post("Bash", "toolu_1023", ""));
    expect((await rows("tool_calls")).map((r) => r.duration_ms)).toEqual([0, 50]);
  });
});

describe("hooks and instrumentQuery share the context: tool calls link to the run that made them", () => {
  test("in a streaming session, each turn's tool calls carry that turn's execution id", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = { repo: "octo-org/app" };
    const hooks = telemetryHooks(telemetry, context);
    // The SDK runs a tool after streaming the assistant message that asks for it.
    for await (const message of instrumentQuery(replay<SDKMessage>(streamingSession), telemetry, context)) {
      if (message.type !== "assistant") continue;
      for (const block of message.message.content) {
        if (block.type !== "tool_use") continue;
        await fire(hooks, "PreToolUse", pre(block.name, block.id, block.input));
        await fire(hooks, "PostToolUse", post(block.name, block.id, { content: [] }, 250));
      }
    }
    const executions = await rows("executions");
    const toolCalls = await rows("tool_calls");
    expect(executions).toHaveLength(2);
    expect(toolCalls.map((r) => [r.tool_name, r.execution_id])).toEqual([
      ["get_pull_request_diff", executions[0]!.id],
      ["create_issue_comment", executions[1]!.id],
    ]);
  });

  test("telemetryHooks called first makes the id instrumentQuery then uses", async () => {
    const { telemetry, rows } = sqliteTelemetry();
    const context: AgentRunContext = {};
    const hooks = telemetryHooks(telemetry, context);
    const id = context.executionId;
    await fire(hooks, "PostToolUse", post("Glob", "toolu_01GlobA", [], 4));
    for await (const _ of instrumentQuery(replay(streamingSession.slice(0, 6)), telemetry, context));
    expect((await rows("executions"))[0]!.id).toBe(id!);
    expect((await rows("tool_calls"))[0]!.execution_id).toBe(id!);
  });
});
