import { describe, expect, test } from "bun:test";
import { mapOtlpRequest, type OtlpMapping } from "../../src/capture/otlp/index.ts";
import { ENCODINGS, spanBodies, spanId, T0_MS, TRACE_ID, type SpanSpec } from "./otlp-bodies.ts";

/** Maps spans sent in both encodings, checks that both say the same, and returns it. */
function mapSpans(specs: SpanSpec[], resource?: Record<string, string>): OtlpMapping {
  const bodies = spanBodies(specs, resource);
  const [protobuf, json] = ENCODINGS.map((encoding) => mapOtlpRequest("traces", encoding, bodies[encoding]));
  expect(json).toEqual(protobuf!);
  return protobuf!;
}

function idOf(n: number): string {
  return `otlp:${TRACE_ID}:${spanId(n)}`;
}

const PROMPT = "Review this diff: SECRET-PROMPT-TEXT";

const chat: SpanSpec = {
  name: "chat claude-sonnet-4-5",
  durationMs: 1234,
  attributes: {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.response.model": "claude-sonnet-4-5-20250929",
    "gen_ai.usage.input_tokens": 1300,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.cache_creation.input_tokens": 200,
    "gen_ai.usage.output_tokens": 50,
    "gen_ai.conversation.id": "conv-1",
    "gen_ai.agent.name": "reviewer",
    "gen_ai.input.messages": PROMPT,
    "gen_ai.response.finish_reasons": ["stop"],
  },
};

describe("GenAI model-call spans → executions", () => {
  test("a chat span: tokens in Anthropic semantics, time, duration, identity, a small allow-list of attributes", () => {
    const mapping = mapSpans([chat]);
    expect(mapping).toEqual({
      records: [
        {
          kind: "execution",
          value: {
            id: idOf(1),
            createdAt: T0_MS,
            repo: "review-bot",
            eventType: "chat",
            provider: "anthropic",
            model: "claude-sonnet-4-5-20250929",
            // OpenTelemetry's input includes the 1000 cache reads and 200 cache writes.
            inputTokens: 100,
            outputTokens: 50,
            cacheReadTokens: 1000,
            cacheCreationTokens: 200,
            durationMs: 1234,
            conclusion: "success",
            sessionId: "conv-1",
            attributes: { trace_id: TRACE_ID, span_id: spanId(1), "service.name": "review-bot", "gen_ai.agent.name": "reviewer" },
          },
        },
      ],
      rejected: 0,
      errorMessage: null,
      ignored: 0,
    });
    expect(JSON.stringify(mapping)).not.toContain("SECRET-PROMPT-TEXT");
    expect("costUsd" in mapping.records[0]!.value).toBe(false); // Tally prices it
  });

  test("a reported cost is kept (gen_ai.usage.cost)", () => {
    const [record] = mapSpans([{ ...chat, attributes: { ...chat.attributes, "gen_ai.usage.cost": 0.0123 } }]).records;
    expect(record!.value.costUsd).toBe(0.0123);
  });

  test("input never drops below 0 when a producer already left the cache out of it", () => {
    const [record] = mapSpans([{ ...chat, attributes: { ...chat.attributes, "gen_ai.usage.input_tokens": 4 } }]).records;
    expect(record!.value).toMatchObject({ inputTokens: 0, cacheReadTokens: 1000, cacheCreationTokens: 200 });
  });

  test("older producers: gen_ai.system, request model only, deprecated prompt/completion token names", () => {
    const [record] = mapSpans([
      {
        attributes: {
          "gen_ai.operation.name": "text_completion",
          "gen_ai.system": "openai",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.usage.prompt_tokens": 70,
          "gen_ai.usage.completion_tokens": 30,
        },
      },
    ]).records;
    expect(record!.value).toMatchObject({ eventType: "text_completion", provider: "openai", model: "gpt-4o-mini", inputTokens: 70, outputTokens: 30 });
  });

  test("no provider attribute: provider is left to Tally's default; numeric strings are read as numbers", () => {
    const [record] = mapSpans([
      { attributes: { "gen_ai.operation.name": "embeddings", "gen_ai.request.model": "claude-x", "gen_ai.usage.input_tokens": "12" } },
    ]).records;
    expect("provider" in record!.value).toBe(false);
    expect(record!.value).toMatchObject({ eventType: "embeddings", inputTokens: 12, outputTokens: 0 });
  });

  test("conclusion is error for status ERROR or an error.type, success otherwise", () => {
    const model = { "gen_ai.operation.name": "generate_content", "gen_ai.request.model": "gemini-2.5-pro" };
    const mapping = mapSpans([
      { attributes: model, error: true },
      { attributes: { ...model, "error.type": "timeout" } },
      { attributes: model },
    ]);
    expect(mapping.records.map((r) => r.value.conclusion)).toEqual(["error", "error", "success"]);
  });

  test("session from gen_ai.conversation.id, else session.id; repo is the resource's service.name", () => {
    const mapping = mapSpans(
      [{ attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "session.id": "s-2" } }],
      { "service.name": "triage-bot" },
    );
    expect(mapping.records[0]!.value).toMatchObject({ sessionId: "s-2", repo: "triage-bot" });
  });

  test("a model-call span without a model is rejected, naming the attributes looked for", () => {
    const mapping = mapSpans([chat, { attributes: { "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 5 } }]);
    expect(mapping.records).toHaveLength(1);
    expect(mapping.rejected).toBe(1);
    expect(mapping.errorMessage).toBe("1 span rejected; first: model-call span has no gen_ai.response.model, gen_ai.request.model or llm.model_name");
  });

  test("a token count that is not a number rejects the span (never stored as 0), and the message quotes no value", () => {
    const mapping = mapSpans([{ ...chat, attributes: { ...chat.attributes, "gen_ai.usage.output_tokens": "lots-SECRET" } }]);
    expect(mapping.rejected).toBe(1);
    expect(mapping.errorMessage).toContain("gen_ai.usage.output_tokens must be a non-negative number");
    expect(mapping.errorMessage).not.toContain("SECRET");
  });

  test("the same body maps to the same ids every time: a retried export is stored once", () => {
    const bodies = spanBodies([chat, { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "grep" } }]);
    for (const encoding of ENCODINGS) {
      const first = mapOtlpRequest("traces", encoding, bodies[encoding]);
      const second = mapOtlpRequest("traces", encoding, bodies[encoding]);
      expect(second).toEqual(first);
      expect(first.records.map((r) => r.value.id)).toEqual([idOf(1), idOf(2)]);
    }
  });
});

describe("agent and other spans are ignored", () => {
  test("an invoke_agent span around a chat span: only the chat span counts", () => {
    const mapping = mapSpans([
      { name: "invoke_agent reviewer", durationMs: 5000, attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 9999 } },
      { ...chat, parent: 0 },
    ]);
    expect(mapping.records.map((r) => r.value.id)).toEqual([idOf(2)]);
    expect(mapping.ignored).toBe(1);
  });

  test("create_agent, invoke_workflow, OpenInference AGENT and CHAIN, unrelated and Claude Code spans", () => {
    const mapping = mapSpans([
      { attributes: { "gen_ai.operation.name": "create_agent" } },
      { attributes: { "gen_ai.operation.name": "invoke_workflow" } },
      { attributes: { "openinference.span.kind": "AGENT" } },
      { attributes: { "openinference.span.kind": "CHAIN", "llm.model_name": "m" } },
      { name: "GET /repos", attributes: { "http.request.method": "GET" } },
      { name: "claude_code.llm_request", attributes: { "gen_ai.operation.name": "chat", model: "claude-sonnet-4-5" } },
    ]);
    expect(mapping).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 6 });
  });
});

describe("OpenInference spans", () => {
  test("an LLM span: llm.* names, prompt count includes the cache, reported llm.cost.total, session.id", () => {
    const mapping = mapSpans([
      {
        durationMs: 800,
        attributes: {
          "openinference.span.kind": "LLM",
          "llm.model_name": "gpt-4o",
          "llm.provider": "openai",
          "llm.token_count.prompt": 500,
          "llm.token_count.completion": 20,
          "llm.token_count.prompt_details.cache_read": 300,
          "llm.token_count.prompt_details.cache_write": 50,
          "llm.cost.total": 0.002,
          "session.id": "s-9",
          "input.value": PROMPT,
        },
      },
    ]);
    expect(mapping.records).toEqual([
      {
        kind: "execution",
        value: {
          id: idOf(1),
          createdAt: T0_MS,
          repo: "review-bot",
          eventType: "llm",
          provider: "openai",
          model: "gpt-4o",
          inputTokens: 150,
          outputTokens: 20,
          cacheReadTokens: 300,
          cacheCreationTokens: 50,
          durationMs: 800,
          costUsd: 0.002,
          conclusion: "success",
          sessionId: "s-9",
          attributes: { trace_id: TRACE_ID, span_id: spanId(1), "service.name": "review-bot" },
        },
      },
    ]);
    expect(JSON.stringify(mapping)).not.toContain("SECRET-PROMPT-TEXT");
  });

  test("an EMBEDDING span is a model call; a TOOL span a tool call", () => {
    const mapping = mapSpans([
      { attributes: { "openinference.span.kind": "EMBEDDING", "llm.model_name": "text-embedding-3-small" } },
      { durationMs: 42, attributes: { "openinference.span.kind": "TOOL", "tool.name": "lookup_issue" } },
    ]);
    expect(mapping.records.map((r) => [r.kind, r.value.eventType ?? r.value.toolName])).toEqual([
      ["execution", "embedding"],
      ["toolCall", "lookup_issue"],
    ]);
  });
});

describe("tool spans → tool calls", () => {
  test("an MCP tools/call server span: tool, server, session, duration", () => {
    const mapping = mapSpans(
      [
        {
          name: "tools/call search_code",
          startMs: 10,
          durationMs: 87,
          attributes: {
            "mcp.method.name": "tools/call",
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "search_code",
            "mcp.session.id": "mcp-s1",
            "jsonrpc.request.id": "7",
          },
        },
      ],
      { "service.name": "code-search-mcp" },
    );
    expect(mapping.records).toEqual([
      {
        kind: "toolCall",
        value: {
          id: idOf(1),
          createdAt: T0_MS + 10,
          toolName: "search_code",
          server: "code-search-mcp",
          outcome: "ok",
          durationMs: 87,
          sessionId: "mcp-s1",
          attributes: { trace_id: TRACE_ID, span_id: spanId(1), "service.name": "code-search-mcp" },
        },
      },
    ]);
  });

  test("MCP outcomes: error.type tool_error is a tool error, a JSON-RPC error code a protocol error", () => {
    const call = { "mcp.method.name": "tools/call", "gen_ai.tool.name": "search_code" };
    const mapping = mapSpans([
      { attributes: { ...call, "error.type": "tool_error" } },
      { attributes: { ...call, "error.type": "-32602" }, error: true },
    ]);
    expect(mapping.records.map((r) => [r.value.outcome, r.value.errorType])).toEqual([
      ["tool_error", "tool_error"],
      ["protocol_error", "-32602"],
    ]);
  });

  test("an execute_tool span: mcp.server.name wins over service.name; a failed status is a tool error", () => {
    const mapping = mapSpans([
      {
        error: true,
        attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch_pr", "gen_ai.tool.call.id": "call_1", "mcp.server.name": "github", "gen_ai.conversation.id": "conv-3" },
      },
    ]);
    expect(mapping.records[0]!.value).toEqual({
      id: idOf(1),
      createdAt: T0_MS,
      toolName: "fetch_pr",
      server: "github",
      outcome: "tool_error",
      durationMs: 0,
      sessionId: "conv-3",
      attributes: { trace_id: TRACE_ID, span_id: spanId(1), "service.name": "review-bot", "gen_ai.tool.call.id": "call_1" },
    });
  });

  test("a tool span without a tool name is rejected", () => {
    const mapping = mapSpans([{ attributes: { "gen_ai.operation.name": "execute_tool" } }]);
    expect(mapping).toEqual({ records: [], rejected: 1, errorMessage: "1 span rejected; first: tool span has no gen_ai.tool.name or tool.name", ignored: 0 });
  });
});
