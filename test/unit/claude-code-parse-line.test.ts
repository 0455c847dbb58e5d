import { describe, expect, test } from "bun:test";
import { parseTranscriptLine } from "../../src/capture/claude-code/parse-line.ts";

/** An assistant line as Claude Code 2.x writes it. */
function assistant(overrides: Record<string, unknown> = {}, message: Record<string, unknown> = {}, usage: Record<string, unknown> = {}): string {
  return JSON.stringify({
    parentUuid: "p-1",
    isSidechain: false,
    userType: "external",
    cwd: "/home/dev/src/app",
    sessionId: "0b6c9f2e-1111-4222-8333-944445555666",
    version: "2.0.14",
    gitBranch: "main",
    message: {
      id: "msg_01ABC",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [{ type: "text", text: "Done." }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 4,
        cache_creation_input_tokens: 1200,
        cache_read_input_tokens: 15000,
        cache_creation: { ephemeral_5m_input_tokens: 1200, ephemeral_1h_input_tokens: 0 },
        output_tokens: 321,
        service_tier: "standard",
        ...usage,
      },
      ...message,
    },
    requestId: "req_011CABC",
    type: "assistant",
    uuid: "u-1",
    timestamp: "2026-01-05T23:59:59.500Z",
    ...overrides,
  });
}

describe("parseTranscriptLine: API responses", () => {
  test("an assistant line with usage gives every field an execution needs", () => {
    const parsed = parseTranscriptLine(assistant());
    expect(parsed).toEqual({
      kind: "usage",
      line: {
        messageId: "msg_01ABC",
        requestId: "req_011CABC",
        uuid: "u-1",
        sessionId: "0b6c9f2e-1111-4222-8333-944445555666",
        createdAt: Date.UTC(2026, 0, 5, 23, 59, 59, 500),
        model: "claude-sonnet-4-5-20250929",
        inputTokens: 4,
        outputTokens: 321,
        cacheReadTokens: 15000,
        cacheCreationTokens: 1200,
        costUsd: null,
        cwd: "/home/dev/src/app",
        version: "2.0.14",
        isSidechain: false,
        agentId: null,
        stopReason: "end_turn",
      },
    });
  });

  test("costUSD (older Claude Code) is kept as the reported cost; a negative or non-numeric one is not", () => {
    expect(parseTranscriptLine(assistant({ costUSD: 0.0123 }))).toMatchObject({ line: { costUsd: 0.0123 } });
    expect(parseTranscriptLine(assistant({ costUSD: -1 }))).toMatchObject({ line: { costUsd: null } });
    expect(parseTranscriptLine(assistant({ costUSD: "0.5" }))).toMatchObject({ line: { costUsd: null } });
  });

  test("side chains and subagents count like any response, and say so", () => {
    expect(parseTranscriptLine(assistant({ isSidechain: true, agentId: "a07414a5" }))).toMatchObject({
      kind: "usage",
      line: { isSidechain: true, agentId: "a07414a5" },
    });
  });

  test("optional fields of the wrong type are ignored, not fatal: cache counts become 0, ids null", () => {
    const parsed = parseTranscriptLine(assistant({ requestId: 42, sessionId: "" }, { id: null, model: 7 }, { cache_read_input_tokens: null, cache_creation_input_tokens: "9" }));
    expect(parsed).toMatchObject({
      kind: "usage",
      line: { requestId: null, sessionId: null, messageId: null, model: null, cacheReadTokens: 0, cacheCreationTokens: 0, inputTokens: 4, outputTokens: 321 },
    });
  });
});

describe("parseTranscriptLine: lines that are not counted", () => {
  test("user, summary and system lines have no usage", () => {
    const user = JSON.stringify({ type: "user", message: { role: "user", content: "fix it" }, uuid: "u", timestamp: "2026-01-05T10:00:00.000Z" });
    expect(parseTranscriptLine(user)).toEqual({ kind: "ignored", reason: "noUsage" });
    expect(parseTranscriptLine('{"type":"summary","summary":"Fix","leafUuid":"x"}')).toEqual({ kind: "ignored", reason: "noUsage" });
    expect(parseTranscriptLine('{"type":"system","content":"compacted","message":"text"}')).toEqual({ kind: "ignored", reason: "noUsage" });
  });

  test("a tool result that prints JSON with a usage key is not a response", () => {
    const result = JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "tool_result", content: '{"usage": {"input_tokens": 5}}' }] }, toolUseResult: { usage: { input_tokens: 3, output_tokens: 4 } } });
    expect(parseTranscriptLine(result)).toEqual({ kind: "ignored", reason: "noUsage" });
  });

  test("<synthetic> notices and API error messages are left out", () => {
    expect(parseTranscriptLine(assistant({ isApiErrorMessage: true }, { model: "<synthetic>" }, { input_tokens: 0, output_tokens: 0 }))).toEqual({ kind: "ignored", reason: "synthetic" });
    expect(parseTranscriptLine(assistant({}, { model: "<synthetic>" }))).toEqual({ kind: "ignored", reason: "synthetic" });
    expect(parseTranscriptLine(assistant({ isApiErrorMessage: true }))).toEqual({ kind: "ignored", reason: "apiError" });
  });

  test("usage without numeric input and output tokens, or without a valid timestamp, is invalid (ccusage skips those too)", () => {
    expect(parseTranscriptLine(assistant({}, {}, { output_tokens: undefined }))).toEqual({ kind: "ignored", reason: "invalid" });
    expect(parseTranscriptLine(assistant({}, {}, { input_tokens: "4" }))).toEqual({ kind: "ignored", reason: "invalid" });
    expect(parseTranscriptLine(assistant({ timestamp: "yesterday" }))).toEqual({ kind: "ignored", reason: "invalid" });
    expect(parseTranscriptLine(assistant({ timestamp: undefined }))).toEqual({ kind: "ignored", reason: "invalid" });
  });

  test("anything that is not one JSON object is malformed", () => {
    const line = assistant();
    for (const raw of [line.slice(0, line.length / 2), `${line}${line}`, "not json", "[1,2]", "42", "null", '"text"']) {
      expect(parseTranscriptLine(raw)).toEqual({ kind: "malformed" });
    }
  });
});
