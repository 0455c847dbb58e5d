import { describe, expect, test } from "bun:test";
import { executionIdFromMeta, traceIdOf } from "../../src/capture/mcp/execution-id.ts";
import { outcomeOf } from "../../src/capture/mcp/outcome.ts";
import { truncateUtf8, utf8Length, utf8LengthPortable } from "../../src/capture/mcp/utf8.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

describe("utf8Length", () => {
  const samples = ["", "ascii", "é", "€uro", "😀", "a😀b", "\ud800", "x\udc00y", "\udc00\ud800", "日本語テキスト", '{"k":"v"}'];

  test("the portable count equals TextEncoder's for every kind of character, lone surrogates included", () => {
    for (const text of samples) expect([text, utf8LengthPortable(text)]).toEqual([text, bytes(text)]);
  });

  test("the fast count agrees with the portable one", () => {
    for (const text of samples) expect(utf8Length(text)).toBe(utf8LengthPortable(text));
  });
});

describe("truncateUtf8", () => {
  test("leaves a text within the budget as it is", () => {
    expect(truncateUtf8("short", 5)).toBe("short");
    expect(truncateUtf8("ééé", 6)).toBe("ééé");
  });

  test("cuts to the budget, ellipsis included, never inside a character", () => {
    for (const text of ["x".repeat(100), "é".repeat(100), "😀".repeat(100), "a😀".repeat(60)]) {
      for (const max of [3, 4, 5, 10, 17, 64]) {
        const cut = truncateUtf8(text, max);
        expect(cut.endsWith("…")).toBe(true);
        expect(bytes(cut)).toBeLessThanOrEqual(max);
        expect(bytes(cut)).toBeGreaterThan(max - 7);
        expect(text.startsWith(cut.slice(0, -1))).toBe(true);
        expect(cut).not.toContain("\ufffd");
      }
    }
  });

  test("a budget too small for the ellipsis gives an empty string", () => {
    expect(truncateUtf8("abcdef", 2)).toBe("");
  });
});

describe("execution id from _meta", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  test("takes the trace id of a valid traceparent", () => {
    expect(traceIdOf(traceparent)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(traceIdOf(traceparent.toUpperCase())).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    // A future version may append fields.
    expect(traceIdOf(`cc${traceparent.slice(2)}-extra`)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  test("ignores an invalid traceparent", () => {
    for (const bad of [
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      `${traceparent}x`,
      42,
      null,
    ]) {
      expect(traceIdOf(bad)).toBeUndefined();
    }
  });

  test("tally.executionId wins over traceparent; a missing or oversized one is ignored", () => {
    expect(executionIdFromMeta({ "tally.executionId": "run-1", traceparent })).toBe("run-1");
    expect(executionIdFromMeta({ "tally.executionId": "x".repeat(129), traceparent })).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(executionIdFromMeta({ "tally.executionId": 7 })).toBeNull();
    expect(executionIdFromMeta(undefined)).toBeNull();
    expect(executionIdFromMeta("00-…")).toBeNull();
  });
});

describe("outcomeOf", () => {
  test("a result is ok; an isError result is a tool_error", () => {
    expect(outcomeOf({ result: { content: [] } })).toEqual({ outcome: "ok", errorType: null });
    expect(outcomeOf({ result: { content: [{ type: "text", text: "disk full" }], isError: true } })).toEqual({ outcome: "tool_error", errorType: "tool_error" });
  });

  test("an isError result McpServer made from an McpError keeps its code, not its text", () => {
    const result = { content: [{ type: "text", text: "MCP error -32602: Tool secret-name not found" }], isError: true };
    expect(outcomeOf({ result })).toEqual({ outcome: "tool_error", errorType: "McpError:-32602" });
  });

  test("a JSON-RPC error is a protocol_error with its code", () => {
    expect(outcomeOf({ error: { code: -32603, message: "boom" } })).toEqual({ outcome: "protocol_error", errorType: "McpError:-32603" });
    expect(outcomeOf({ error: { message: "no code" } })).toEqual({ outcome: "protocol_error", errorType: "McpError" });
  });
});
