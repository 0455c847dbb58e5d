/** Hook inputs shaped as the Agent SDK passes them, and a way to fire them as it does. */
import type {
  HookCallback,
  HookEvent,
  HookInput,
  PostToolUseFailureHookInput,
  PostToolUseHookInput,
  PreToolUseHookInput,
} from "@anthropic-ai/claude-agent-sdk";
import type { TelemetryHooks } from "../../src/capture/claude-agent/index.ts";
import { SESSION_ID } from "./fixtures/pieces.ts";

const base = {
  session_id: SESSION_ID,
  transcript_path: `/home/bot/.claude/projects/-app-workspaces-octo-org-app-pr-42/${SESSION_ID}.jsonl`,
  cwd: "/app/workspaces/octo-org-app-pr-42",
  permission_mode: "dontAsk",
};

export function pre(toolName: string, toolUseId: string, toolInput: unknown): PreToolUseHookInput {
  return { ...base, hook_event_name: "PreToolUse", tool_name: toolName, tool_input: toolInput, tool_use_id: toolUseId };
}

export function post(toolName: string, toolUseId: string, toolResponse: unknown, durationMs?: number): PostToolUseHookInput {
  const input: PostToolUseHookInput = {
    ...base,
    hook_event_name: "PostToolUse",
    tool_name: toolName,
    tool_input: {},
    tool_response: toolResponse,
    tool_use_id: toolUseId,
  };
  if (durationMs !== undefined) input.duration_ms = durationMs;
  return input;
}

export function failure(toolName: string, toolUseId: string, error: string, extra: Partial<PostToolUseFailureHookInput> = {}): PostToolUseFailureHookInput {
  return { ...base, hook_event_name: "PostToolUseFailure", tool_name: toolName, tool_input: {}, tool_use_id: toolUseId, error, ...extra };
}

/** Calls every callback registered for the event, as the SDK does, and returns their outputs. */
export function fire(hooks: TelemetryHooks, event: HookEvent, input: HookInput) {
  let toolUseId: string | undefined;
  try {
    toolUseId = "tool_use_id" in input ? input.tool_use_id : undefined;
  } catch {
    // Hostile inputs in the robustness test.
  }
  const callbacks: HookCallback[] = (hooks[event] ?? []).flatMap((matcher) => matcher.hooks);
  return Promise.all(callbacks.map((callback) => callback(input, toolUseId, { signal: new AbortController().signal })));
}

