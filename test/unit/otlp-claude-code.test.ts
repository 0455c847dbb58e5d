import { describe, expect, test } from "bun:test";
import { mapOtlpRequest, type OtlpMapping } from "../../src/capture/otlp/index.ts";
import { prepareRecord } from "../../src/core/validate.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { ENCODINGS, logBodies, type LogSpec } from "./otlp-bodies.ts";

/** Maps log records sent in both encodings, checks that both say the same, and returns it. */
async function mapLogs(specs: LogSpec[], resource?: Record<string, string>, scope?: string): Promise<OtlpMapping> {
  const bodies = await logBodies(specs, resource, scope);
  const [protobuf, json] = ENCODINGS.map((encoding) => mapOtlpRequest("logs", encoding, bodies[encoding]));
  expect(json).toEqual(protobuf!);
  return protobuf!;
}

const AT = Date.UTC(2026, 0, 5, 12, 30);
const SESSION = "0b6c9f2e-1111-4222-8333-944445555666";

/** Attributes every Claude Code event carries. */
const common = { "session.id": SESSION, "prompt.id": "p-1", "user.id": "u-1", "organization.id": "org-1" };

/** An api_request event as Claude Code 2.x sends it: body and event.name, numbers as strings. */
const apiRequest: LogSpec = {
  body: "claude_code.api_request",
  timeMs: AT,
  attributes: {
    ...common,
    "event.name": "api_request",
    "event.timestamp": "2026-01-05T12:30:00.000Z",
    "event.sequence": 4,
    model: "claude-sonnet-4-5-20250929",
    input_tokens: "4",
    output_tokens: "321",
    cache_read_tokens: "15000",
    cache_creation_tokens: "1200",
    cost_usd: "0.0123",
    duration_ms: "5120",
    request_id: "req_011CXYZ",
  },
};

describe("claude_code.api_request → execution", () => {
  test("numbers sent as strings, tokens kept as sent (already Anthropic semantics), cost reported, id from the request id", async () => {
    const mapping = await mapLogs([apiRequest]);
    expect(mapping).toEqual({
      records: [
        {
          kind: "execution",
          value: {
            id: "claude-code:request:req_011CXYZ",
            createdAt: AT,
            repo: "claude-code",
            eventType: "claude-code",
            provider: "anthropic",
            model: "claude-sonnet-4-5-20250929",
            inputTokens: 4,
            outputTokens: 321,
            cacheReadTokens: 15000,
            cacheCreationTokens: 1200,
            durationMs: 5120,
            costUsd: 0.0123,
            conclusion: "success",
            sessionId: SESSION,
            attributes: { "prompt.id": "p-1", "service.version": "2.1.0" },
          },
        },
      ],
      rejected: 0,
      errorMessage: null,
      ignored: 0,
    });
  });

  test("the record is what the library accepts: the reported cost wins", async () => {
    const [record] = (await mapLogs([apiRequest])).records;
    const prepared = prepareRecord(record!.kind, record!.value, 0, createPricer());
    expect(prepared).toMatchObject({ kind: "execution", row: { costUsd: 0.0123, costSource: "reported", inputTokens: 4, createdAt: AT } });
  });

  test("numbers sent as numbers read the same; without request_id the id is session + event.sequence", async () => {
    const { request_id: _, ...attributes } = apiRequest.attributes;
    const [record] = (await mapLogs([{ ...apiRequest, attributes: { ...attributes, input_tokens: 4, cost_usd: 0.0123 } }])).records;
    expect(record!.value).toMatchObject({ id: `claude-code:event:${SESSION}:4`, inputTokens: 4, costUsd: 0.0123 });
  });

  test("without a reported cost the execution is priced by Tally", async () => {
    const { cost_usd: _, ...attributes } = apiRequest.attributes;
    const [record] = (await mapLogs([{ ...apiRequest, attributes }])).records;
    expect("costUsd" in record!.value).toBe(false);
    expect(prepareRecord("execution", record!.value, 0, createPricer())).toMatchObject({ row: { costSource: "computed" } });
  });

  test("an api_request without a model is rejected, naming the attribute", async () => {
    const { model: _, ...attributes } = apiRequest.attributes;
    const mapping = await mapLogs([apiRequest, { ...apiRequest, attributes }]);
    expect(mapping.records).toHaveLength(1);
    expect(mapping.rejected).toBe(1);
    expect(mapping.errorMessage).toBe("1 log record rejected; first: claude_code.api_request has no model");
  });

  test("the event is named by the body alone, by a prefixed event.name alone, or by the record's event_name", async () => {
    const { "event.name": _, ...withoutName } = apiRequest.attributes;
    const mapping = await mapLogs(
      [
        { ...apiRequest, attributes: { ...withoutName, request_id: "r1" } },
        { timeMs: AT, attributes: { ...withoutName, "event.name": "claude_code.api_request", request_id: "r2" } },
        { timeMs: AT, eventName: "claude_code.api_request", attributes: { ...withoutName, request_id: "r3" } },
      ],
      { "service.name": "my-laptop" },
      "some.other.scope",
    );
    expect(mapping.records.map((r) => [r.value.id, r.value.repo])).toEqual([
      ["claude-code:request:r1", "my-laptop"],
      ["claude-code:request:r2", "my-laptop"],
      ["claude-code:request:r3", "my-laptop"],
    ]);
  });

  test("without a record time, the observed time is used (the SDK stamps it)", async () => {
    const before = Date.now();
    const [record] = (await mapLogs([{ ...apiRequest, timeMs: undefined }])).records;
    expect(record!.value.createdAt as number).toBeGreaterThanOrEqual(before - 1);
    expect(record!.value.createdAt as number).toBeLessThanOrEqual(Date.now());
  });
});

describe("claude_code.tool_result → tool call", () => {
  const toolResult = (attributes: Record<string, string | number>): LogSpec => ({
    body: "claude_code.tool_result",
    timeMs: AT,
    attributes: { ...common, "event.name": "tool_result", "event.sequence": 7, ...attributes },
  });

  test("a built-in tool that succeeded: id from tool_use_id, duration, session", async () => {
    const mapping = await mapLogs([toolResult({ tool_name: "Bash", success: "true", duration_ms: "1831", tool_use_id: "toolu_01Ft" })]);
    expect(mapping.records).toEqual([
      {
        kind: "toolCall",
        value: {
          id: "claude-code:tool:toolu_01Ft",
          createdAt: AT,
          toolName: "Bash",
          server: "",
          outcome: "ok",
          durationMs: 1831,
          sessionId: SESSION,
          attributes: { "prompt.id": "p-1", "service.version": "2.1.0" },
        },
      },
    ]);
  });

  test("an MCP tool that failed: server and tool split from mcp__<server>__<tool>, error_type kept, the error message not", async () => {
    const mapping = await mapLogs([toolResult({ tool_name: "mcp__github__get_pr", success: "false", error_type: "timeout", error: "SECRET message" })]);
    expect(mapping.records[0]!.value).toMatchObject({ id: `claude-code:event:${SESSION}:7`, toolName: "get_pr", server: "github", outcome: "tool_error", errorType: "timeout" });
    expect(JSON.stringify(mapping)).not.toContain("SECRET");
  });

  test("a tool_result without tool_name is rejected", async () => {
    const mapping = await mapLogs([toolResult({ success: "true" })]);
    expect(mapping.errorMessage).toBe("1 log record rejected; first: claude_code.tool_result has no tool_name");
  });
});

describe("claude_code.api_error → rate-limit event", () => {
  const apiError = (statusCode: string | number, attempt: string | number, sequence: number): LogSpec => ({
    body: "claude_code.api_error",
    timeMs: AT,
    attributes: { ...common, "event.name": "api_error", "event.sequence": sequence, model: "claude-opus-4-1", status_code: statusCode, attempt, error: "rate_limit_error SECRET" },
  });

  test("429 and 529 are rate-limit events (retry, attempts, no delivery); other errors are ignored", async () => {
    const mapping = await mapLogs([apiError("429", "2", 11), apiError(529, 1, 12), apiError("500", "1", 13)]);
    expect(mapping.ignored).toBe(1);
    expect(mapping.records).toEqual([
      {
        kind: "rateLimitEvent",
        value: {
          id: `claude-code:event:${SESSION}:11`,
          createdAt: AT,
          deliveryId: null,
          eventType: "claude-code",
          repo: "claude-code",
          resource: "anthropic-api",
          degradation: "retry",
          retryAttempts: 2,
          attributes: { status_code: 429, model: "claude-opus-4-1", "prompt.id": "p-1", "service.version": "2.1.0" },
        },
      },
      {
        kind: "rateLimitEvent",
        value: {
          id: `claude-code:event:${SESSION}:12`,
          createdAt: AT,
          deliveryId: null,
          eventType: "claude-code",
          repo: "claude-code",
          resource: "anthropic-api",
          degradation: "retry",
          retryAttempts: 1,
          attributes: { status_code: 529, model: "claude-opus-4-1", "prompt.id": "p-1", "service.version": "2.1.0" },
        },
      },
    ]);
    expect(JSON.stringify(mapping)).not.toContain("SECRET");
  });

  test("an api_error with neither session.id nor request identity is rejected", async () => {
    const { "session.id": _, ...attributes } = apiError("429", "1", 1).attributes;
    const mapping = await mapLogs([{ ...apiError("429", "1", 1), attributes }]);
    expect(mapping.errorMessage).toBe("1 log record rejected; first: Claude Code event has no session.id to identify it");
  });
});

describe("other log records are ignored", () => {
  test("other Claude Code events, and a bare event name from elsewhere", async () => {
    const claudeCode = await mapLogs([
      { body: "claude_code.user_prompt", attributes: { ...common, "event.name": "user_prompt", prompt: "SECRET" } },
      { body: "claude_code.tool_decision", attributes: { ...common, "event.name": "tool_decision" } },
      { body: "claude_code.api_retries_exhausted", attributes: { ...common, "event.name": "api_retries_exhausted" } },
    ]);
    expect(claudeCode).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 3 });
    const elsewhere = await mapLogs(
      [
        { body: "GET /healthz 200", attributes: { "http.response.status_code": 200 } },
        { body: "api_request", attributes: { "event.name": "api_request", model: "gpt-4o", input_tokens: 5 } },
      ],
      { "service.name": "web" },
      "web-logger",
    );
    expect(elsewhere).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 2 });
  });

  test("the same body maps to the same ids every time", async () => {
    const bodies = await logBodies([apiRequest, { ...apiRequest, attributes: { ...apiRequest.attributes, request_id: "req_2" } }]);
    for (const encoding of ENCODINGS) {
      const ids = () => mapOtlpRequest("logs", encoding, bodies[encoding]).records.map((r) => r.value.id);
      expect(ids()).toEqual(["claude-code:request:req_011CXYZ", "claude-code:request:req_2"]);
      expect(ids()).toEqual(ids());
    }
  });
});
