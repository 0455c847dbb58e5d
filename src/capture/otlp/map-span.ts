/**
 * Spans → records, by the GenAI, OpenInference and MCP conventions: model calls become
 * executions, tool calls become tool calls; agent and workflow spans are ignored (their child
 * model-call spans carry the tokens, as Langfuse counts them), and so is every other span.
 */
import type { ToolCallOutcome } from "../../core/records.ts";
import { compact } from "./compact.ts";
import { firstAmount, firstText, ItemRejected } from "./read-attributes.ts";
import { elapsedMs, epochMs } from "./time.ts";
import type { DecodedSpan, ItemContext, MappedRecord } from "./types.ts";

const MODEL_OPERATIONS = new Set(["chat", "text_completion", "generate_content", "embeddings"]);
const AGENT_OPERATIONS = new Set(["invoke_agent", "create_agent", "invoke_workflow"]);
const MODEL_KINDS = new Set(["LLM", "EMBEDDING"]);
const AGENT_KINDS = new Set(["AGENT", "CHAIN"]);

/** `Status.code` of a failed span. */
const STATUS_ERROR = 2;

/** What a span is to Tally. */
export type SpanRole = "model" | "tool" | "agent" | "other";

/** Reads a span's role from `gen_ai.operation.name`, `openinference.span.kind` and `mcp.method.name`. */
export function spanRole(span: DecodedSpan): SpanRole {
  // Claude Code's beta traces repeat what its log events say, and the events are what Tally
  // maps (with the ids transcripts and retries agree on): its spans would count twice.
  if (span.name.startsWith("claude_code.")) return "other";
  const a = span.attributes;
  const operation = firstText(a, "gen_ai.operation.name");
  const kind = firstText(a, "openinference.span.kind")?.toUpperCase();
  if (operation === "execute_tool" || kind === "TOOL" || firstText(a, "mcp.method.name") === "tools/call") return "tool";
  if ((operation !== undefined && MODEL_OPERATIONS.has(operation)) || (kind !== undefined && MODEL_KINDS.has(kind))) return "model";
  if ((operation !== undefined && AGENT_OPERATIONS.has(operation)) || (kind !== undefined && AGENT_KINDS.has(kind))) return "agent";
  return "other";
}

/** The record a span maps to, or null when it is ignored. Throws ItemRejected when it lacks what its role needs. */
export function mapSpan(span: DecodedSpan, context: ItemContext): MappedRecord | null {
  switch (spanRole(span)) {
    case "model":
      return { kind: "execution", value: modelCall(span, context) };
    case "tool":
      return { kind: "toolCall", value: toolCall(span, context) };
    default:
      return null;
  }
}

function modelCall(span: DecodedSpan, context: ItemContext): Record<string, unknown> {
  const a = span.attributes;
  const model = firstText(a, "gen_ai.response.model", "gen_ai.request.model", "llm.model_name");
  if (model === undefined) throw new ItemRejected("model-call span has no gen_ai.response.model, gen_ai.request.model or llm.model_name");
  // OpenTelemetry and OpenInference count cache reads and writes in the input; Tally, as
  // Anthropic, does not.
  const cacheRead = firstAmount(a, "gen_ai.usage.cache_read.input_tokens", "llm.token_count.prompt_details.cache_read") ?? 0;
  const cacheCreation = firstAmount(a, "gen_ai.usage.cache_creation.input_tokens", "llm.token_count.prompt_details.cache_write") ?? 0;
  const input = firstAmount(a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt") ?? 0;
  const operation = firstText(a, "gen_ai.operation.name") ?? firstText(a, "openinference.span.kind")?.toLowerCase();
  return compact({
    id: spanRecordId(span),
    createdAt: startMs(span),
    repo: serviceName(context),
    eventType: operation,
    // No provider attribute: Tally's default (anthropic) applies.
    provider: firstText(a, "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    model,
    inputTokens: Math.max(0, input - cacheRead - cacheCreation),
    outputTokens: firstAmount(a, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion") ?? 0,
    cacheReadTokens: cacheRead,
    cacheCreationTokens: cacheCreation,
    durationMs: durationMs(span),
    // No standard cost attribute; without one Tally prices the tokens itself.
    costUsd: firstAmount(a, "gen_ai.usage.cost", "llm.cost.total"),
    conclusion: failed(span) ? "error" : "success",
    sessionId: firstText(a, "gen_ai.conversation.id", "session.id"),
    attributes: spanAttributes(span, context, "gen_ai.agent.name"),
  });
}

function toolCall(span: DecodedSpan, context: ItemContext): Record<string, unknown> {
  const a = span.attributes;
  const toolName = firstText(a, "gen_ai.tool.name", "tool.name");
  if (toolName === undefined) throw new ItemRejected("tool span has no gen_ai.tool.name or tool.name");
  const errorType = firstText(a, "error.type");
  return compact({
    id: spanRecordId(span),
    createdAt: startMs(span),
    toolName,
    server: firstText(a, "mcp.server.name") ?? serviceName(context),
    outcome: toolOutcome(span, errorType),
    errorType,
    durationMs: durationMs(span),
    sessionId: firstText(a, "mcp.session.id", "gen_ai.conversation.id", "session.id"),
    attributes: spanAttributes(span, context, "gen_ai.tool.call.id"),
  });
}

/**
 * MCP's conventions set `error.type` to `tool_error` for a result with `isError`, and to the
 * JSON-RPC error code for an error response: that one is a protocol error, as Tally's own MCP
 * capture records it. Other tool spans that failed are tool errors.
 */
function toolOutcome(span: DecodedSpan, errorType: string | undefined): ToolCallOutcome {
  if (!failed(span)) return "ok";
  const mcp = firstText(span.attributes, "mcp.method.name") !== undefined;
  return mcp && errorType !== undefined && errorType !== "tool_error" ? "protocol_error" : "tool_error";
}

function failed(span: DecodedSpan): boolean {
  return span.statusCode === STATUS_ERROR || firstText(span.attributes, "error.type") !== undefined;
}

const HEX_ID = { trace: /^[0-9a-f]{32}$/, span: /^[0-9a-f]{16}$/ };
const ZERO_ID = /^0+$/;

/** `otlp:<trace id>:<span id>`: the span's own identity, the same on every retry. */
function spanRecordId(span: DecodedSpan): string {
  if (!HEX_ID.trace.test(span.traceId) || ZERO_ID.test(span.traceId)) {
    throw new ItemRejected("span has no valid traceId (16 bytes, not all zero)");
  }
  if (!HEX_ID.span.test(span.spanId) || ZERO_ID.test(span.spanId)) {
    throw new ItemRejected("span has no valid spanId (8 bytes, not all zero)");
  }
  return `otlp:${span.traceId}:${span.spanId}`;
}

function startMs(span: DecodedSpan): number {
  if (span.startTimeUnixNano === 0n) throw new ItemRejected("span has no startTimeUnixNano");
  return epochMs(span.startTimeUnixNano);
}

/** The span's duration; 0 while it has no end time (never exported by the SDKs, but possible). */
function durationMs(span: DecodedSpan): number {
  if (span.endTimeUnixNano === 0n) return 0;
  const elapsed = elapsedMs(span.startTimeUnixNano, span.endTimeUnixNano);
  if (elapsed === undefined) throw new ItemRejected("span has an endTimeUnixNano before its startTimeUnixNano");
  return elapsed;
}

/** The service that sent the span: Tally's `repo` (executions) or `server` (tool calls), the "where" of reports. */
function serviceName(context: ItemContext): string | undefined {
  return firstText(context.resource, "service.name");
}

/** A small allow-list of identities for drill-down; never prompt text or message content. */
function spanAttributes(span: DecodedSpan, context: ItemContext, extraKey: string): Record<string, unknown> {
  return compact({
    trace_id: span.traceId,
    span_id: span.spanId,
    "service.name": serviceName(context),
    [extraKey]: firstText(span.attributes, extraKey),
  });
}

