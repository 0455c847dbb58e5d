/**
 * Claude Code's log events → records: `api_request` → an execution, `tool_result` → a tool
 * call, `api_error` with status 429 or 529 → a rate-limit event. Other events, and log records
 * that are not Claude Code's, are ignored. Claude Code's metrics repeat these events and are
 * not mapped (see map-request.ts).
 *
 * Claude Code names an event three ways at once: the record's body (`claude_code.api_request`),
 * an `event.name` attribute (`api_request`), and, in newer SDKs, the record's `event_name`.
 * Numbers often arrive as strings. Its token counts already follow Anthropic (input excludes
 * cache reads and writes): nothing is subtracted.
 */
import { toolIdentity } from "../claude-agent/tool-name.ts";
import { compact } from "./compact.ts";
import { amount, firstText, flag, idPart, ItemRejected } from "./read-attributes.ts";
import { epochMs } from "./time.ts";
import type { DecodedLogRecord, ItemContext, MappedRecord } from "./types.ts";

const PREFIX = "claude_code.";
/** The instrumentation scope of Claude Code's events. */
const CLAUDE_CODE_SCOPE = "com.anthropic.claude_code.events";
/** Claude Code's `service.name`. */
const CLAUDE_CODE_SERVICE = "claude-code";
/** The `eventType` of everything mapped from Claude Code's events. */
export const CLAUDE_CODE_OTLP_EVENT_TYPE = "claude-code";
/** HTTP statuses of a rate-limited (429) or overloaded (529) Anthropic API. */
const RATE_LIMITED = new Set([429, 529]);

/** The record a log record maps to, or null when it is ignored. Throws ItemRejected when an event lacks what it needs. */
export function mapLogRecord(record: DecodedLogRecord, context: ItemContext): MappedRecord | null {
  switch (claudeCodeEvent(record, context)) {
    case "api_request":
      return { kind: "execution", value: apiRequest(record, context) };
    case "tool_result":
      return { kind: "toolCall", value: toolResult(record, context) };
    case "api_error":
      return rateLimited(record) ? { kind: "rateLimitEvent", value: apiError(record, context) } : null;
    default:
      return null;
  }
}

/** The event's short name (`api_request`) when the record is one of Claude Code's, else null. */
export function claudeCodeEvent(record: DecodedLogRecord, context: ItemContext): string | null {
  const names = [record.eventName, firstText(record.attributes, "event.name") ?? "", record.body ?? ""];
  for (const name of names) if (name.startsWith(PREFIX)) return name.slice(PREFIX.length);
  // A bare name (`api_request`) is Claude Code's only when the record says where it came from.
  const fromClaudeCode = context.scopeName === CLAUDE_CODE_SCOPE || firstText(context.resource, "service.name") === CLAUDE_CODE_SERVICE;
  return fromClaudeCode ? (names.find((name) => name.length > 0) ?? null) : null;
}

function apiRequest(record: DecodedLogRecord, context: ItemContext): Record<string, unknown> {
  const a = record.attributes;
  const model = firstText(a, "model");
  if (model === undefined) throw new ItemRejected("claude_code.api_request has no model");
  const requestId = firstText(a, "request_id");
  return compact({
    // The API's request id names the response whichever export (or retry of it) brings it.
    id: requestId !== undefined ? `claude-code:request:${requestId}` : eventId(record),
    createdAt: createdAt(record),
    repo: repo(context),
    eventType: CLAUDE_CODE_OTLP_EVENT_TYPE,
    provider: "anthropic",
    model,
    inputTokens: amount(a, "input_tokens") ?? 0,
    outputTokens: amount(a, "output_tokens") ?? 0,
    cacheReadTokens: amount(a, "cache_read_tokens") ?? 0,
    cacheCreationTokens: amount(a, "cache_creation_tokens") ?? 0,
    durationMs: amount(a, "duration_ms") ?? 0,
    costUsd: amount(a, "cost_usd"),
    conclusion: "success",
    sessionId: firstText(a, "session.id"),
    attributes: claudeCodeAttributes(record, context),
  });
}

function toolResult(record: DecodedLogRecord, context: ItemContext): Record<string, unknown> {
  const a = record.attributes;
  const name = firstText(a, "tool_name");
  if (name === undefined) throw new ItemRejected("claude_code.tool_result has no tool_name");
  // MCP tools are named mcp__<server>__<tool>, split as the Agent SDK hooks split them.
  const { toolName, server } = toolIdentity(name, firstText(a, "mcp_server.name"));
  const errorType = firstText(a, "error_type");
  const success = flag(a, "success");
  const failed = success === false || (success === undefined && errorType !== undefined);
  const toolUseId = firstText(a, "tool_use_id");
  return compact({
    id: toolUseId !== undefined ? `claude-code:tool:${toolUseId}` : eventId(record),
    createdAt: createdAt(record),
    toolName,
    server,
    outcome: failed ? "tool_error" : "ok",
    // `error_type` is a class; the `error` attribute is a message and may quote the tool's input.
    errorType: failed ? errorType : undefined,
    durationMs: amount(a, "duration_ms") ?? 0,
    sessionId: firstText(a, "session.id"),
    attributes: claudeCodeAttributes(record, context),
  });
}

/** The HTTP status of an api_error; not a number (`undefined` when no response came) is NaN, never a rejection. */
function statusCode(record: DecodedLogRecord): number {
  const status = record.attributes.get("status_code");
  return typeof status === "number" ? status : typeof status === "string" && status !== "" ? Number(status) : Number.NaN;
}

function rateLimited(record: DecodedLogRecord): boolean {
  return RATE_LIMITED.has(statusCode(record));
}

function apiError(record: DecodedLogRecord, context: ItemContext): Record<string, unknown> {
  const a = record.attributes;
  const attempt = amount(a, "attempt");
  return compact({
    id: eventId(record),
    createdAt: createdAt(record),
    // No delivery: Claude Code's runs are not webhook deliveries, and a null delivery id keeps
    // every event (the one-per-delivery rule applies to non-null ids only).
    deliveryId: null,
    eventType: CLAUDE_CODE_OTLP_EVENT_TYPE,
    repo: repo(context),
    resource: "anthropic-api",
    // Claude Code retries a rate-limited or overloaded request; `attempt` counts the tries.
    degradation: "retry",
    retryAttempts: attempt === undefined ? undefined : Math.floor(attempt),
    attributes: compact({ status_code: statusCode(record), model: firstText(a, "model"), ...claudeCodeAttributes(record, context) }),
  });
}

/**
 * `claude-code:event:<session.id>:<event.sequence>`: Claude Code numbers the events of a
 * session, so the pair names one event on every retry. Without a sequence (older versions),
 * the record's time stands in for it.
 */
function eventId(record: DecodedLogRecord): string {
  const session = idPart(record.attributes, "session.id");
  if (session === undefined) throw new ItemRejected("Claude Code event has no session.id to identify it");
  const sequence = idPart(record.attributes, "event.sequence");
  if (sequence !== undefined) return `claude-code:event:${session}:${sequence}`;
  const time = record.timeUnixNano || record.observedTimeUnixNano;
  if (time === 0n) throw new ItemRejected("Claude Code event has neither event.sequence nor a time to identify it");
  return `claude-code:event:${session}:t${time}`;
}

/** When the event happened: the record's time, else when it was observed, else its `event.timestamp`; undefined lets Tally stamp it. */
function createdAt(record: DecodedLogRecord): number | string | undefined {
  const time = record.timeUnixNano || record.observedTimeUnixNano;
  if (time !== 0n) return epochMs(time);
  return firstText(record.attributes, "event.timestamp");
}

/** Claude Code's `service.name` (`claude-code`) unless the user set another through OTEL_SERVICE_NAME. */
function repo(context: ItemContext): string {
  return firstText(context.resource, "service.name") ?? CLAUDE_CODE_SERVICE;
}

/** A small allow-list for drill-down: which prompt the event belongs to, and which Claude Code sent it. */
function claudeCodeAttributes(record: DecodedLogRecord, context: ItemContext): Record<string, unknown> {
  return compact({
    "prompt.id": firstText(record.attributes, "prompt.id"),
    "service.version": firstText(context.resource, "service.version"),
  });
}
