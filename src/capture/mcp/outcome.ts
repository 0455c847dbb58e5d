/**
 * How a `tools/call` ended, read from its JSON-RPC response. The error type is a short class,
 * never the error's message: messages can carry arguments, paths or secrets.
 */
import type { ToolCallOutcome } from "../../core/records.ts";

/** An outcome with its error class. */
export interface CallOutcome {
  outcome: ToolCallOutcome;
  errorType: string | null;
}

const OK: CallOutcome = { outcome: "ok", errorType: null };
const TOOL_ERROR: CallOutcome = { outcome: "tool_error", errorType: "tool_error" };

/** A client's `notifications/cancelled` for the request. */
export const CANCELLED: CallOutcome = { outcome: "cancelled", errorType: "cancelled" };
/** The transport closed before the request was answered. */
export const CONNECTION_CLOSED: CallOutcome = { outcome: "cancelled", errorType: "connection_closed" };
/** The telemetry stopped (shutdown or exit) while the call was running. */
export const SHUT_DOWN: CallOutcome = { outcome: "cancelled", errorType: "shutdown" };

// McpServer turns an McpError thrown inside tools/call (unknown tool, invalid arguments) into
// an isError result whose text starts with the error's own prefix: "MCP error -32602: …".
const MCP_ERROR_TEXT = /^MCP error (-?\d{1,6}):/;

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

/** The class of an `isError` result: `McpError:<code>` when McpServer made it from an McpError. */
function toolErrorType(result: { content?: unknown }): CallOutcome {
  const first = Array.isArray(result.content) ? (result.content[0] as { type?: unknown; text?: unknown } | undefined) : undefined;
  if (first?.type === "text" && typeof first.text === "string") {
    const match = MCP_ERROR_TEXT.exec(first.text);
    if (match !== null) return { outcome: "tool_error", errorType: `McpError:${match[1]}` };
  }
  return TOOL_ERROR;
}

/** Outcome of a response message (one with `result` or `error`). */
export function outcomeOf(response: { result?: unknown; error?: unknown }): CallOutcome {
  if (response.error !== undefined) {
    const code = errorCode(response.error);
    return { outcome: "protocol_error", errorType: code === undefined ? "McpError" : `McpError:${code}` };
  }
  const result = response.result as { isError?: unknown; content?: unknown } | null | undefined;
  return result?.isError === true ? toolErrorType(result) : OK;
}
