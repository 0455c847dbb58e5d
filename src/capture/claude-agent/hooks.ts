import type { HookCallback, HookCallbackMatcher, HookEvent, HookJSONOutput } from "@anthropic-ai/claude-agent-sdk";
import type { ToolCallOutcome } from "../../core/records.ts";
import type { Telemetry } from "../../core/telemetry.ts";
import { contextOf, ensureExecutionId, type AgentRunContext } from "./context.ts";
import type { InstrumentOptions } from "./instrument-query.ts";
import { toolIdentity } from "./tool-name.ts";

/** What `telemetryHooks` returns: the shape of the Agent SDK's `Options["hooks"]`. */
export type TelemetryHooks = Partial<Record<HookEvent, HookCallbackMatcher[]>>;

/** Start times of calls awaiting their PostToolUse; a call that never ends is forgotten past this many. */
const MAX_PENDING_CALLS = 1024;

type Input = Record<string, unknown>;

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Agent SDK hooks that record each tool call (`PreToolUse` → `PostToolUse` /
 * `PostToolUseFailure`): tool name, MCP server (from `mcp__<server>__<tool>` names), duration
 * (the SDK's `duration_ms`, else measured from PreToolUse), outcome (`ok`; `tool_error`, also for
 * an MCP result with `isError: true`; `cancelled` for an interrupt), linked to the run through
 * `context.executionId`. Pass the same `context` to {@link instrumentQuery}. Each hook returns
 * `{ continue: true }` and never throws or rejects. To keep hooks of your own, concatenate the
 * matcher arrays per event.
 */
export function telemetryHooks(telemetry: Telemetry, context: AgentRunContext = {}, options: InstrumentOptions = {}): TelemetryHooks {
  const run = contextOf(context);
  // The same id instrumentQuery uses, whichever of the two is called first.
  const fallbackId = ensureExecutionId(run);
  const now = options?.now ?? (() => performance.now());
  const startedAt = new Map<string, number>();

  const preToolUse: HookCallback = async (input) => {
    try {
      const id = text((input as Input).tool_use_id);
      if (id !== undefined) {
        if (startedAt.size >= MAX_PENDING_CALLS) startedAt.delete(startedAt.keys().next().value!);
        startedAt.set(id, now());
      }
    } catch {
      // Never let telemetry decide a tool call.
    }
    return proceed();
  };

  function record(input: Input, outcome: ToolCallOutcome, errorType: string | undefined): void {
    const name = text(input.tool_name);
    if (name === undefined) return;
    const id = text(input.tool_use_id);
    const started = id === undefined ? undefined : startedAt.get(id);
    if (id !== undefined) startedAt.delete(id);
    const reported = input.duration_ms;
    const durationMs =
      typeof reported === "number" && Number.isFinite(reported) && reported >= 0
        ? reported
        : started === undefined
          ? undefined
          : Math.max(0, Math.round(now() - started));
    const provenance = input.mcp_server as Input | undefined;
    const { toolName, server } = toolIdentity(name, text(provenance?.name));
    telemetry.recordToolCall({
      toolName,
      server,
      outcome,
      errorType,
      durationMs,
      sessionId: text(input.session_id),
      executionId: currentExecutionId(run, fallbackId),
    });
  }

  const postToolUse: HookCallback = async (input) => {
    try {
      const response = (input as Input).tool_response as Input | null | undefined;
      const isError = typeof response === "object" && response !== null && response.isError === true;
      record(input as Input, isError ? "tool_error" : "ok", undefined);
    } catch {
      // As above: the tool result reaches the model whatever happens here.
    }
    return proceed();
  };

  const postToolUseFailure: HookCallback = async (input) => {
    try {
      const interrupted = (input as Input).is_interrupt === true;
      record(input as Input, interrupted ? "cancelled" : "tool_error", interrupted ? "interrupt" : undefined);
    } catch {
      // As above.
    }
    return proceed();
  };

  return {
    PreToolUse: [{ hooks: [preToolUse] }],
    PostToolUse: [{ hooks: [postToolUse] }],
    PostToolUseFailure: [{ hooks: [postToolUseFailure] }],
  };
}

/** The run in progress: instrumentQuery moves `context.executionId` on to each new run. */
function currentExecutionId(context: AgentRunContext, fallback: string): string {
  const id = context.executionId;
  return typeof id === "string" && id.length > 0 ? id : fallback;
}

/** A fresh "go ahead" each time: the SDK may merge or keep hook outputs. */
function proceed(): HookJSONOutput {
  return { continue: true };
}
