/**
 * A recorded review-bot session (Sonnet reviewing a pull request with read-only tools),
 * typed against the installed `@anthropic-ai/claude-agent-sdk`: when the SDK's message shapes
 * change, `tsc` fails here. Values come from a real run, trimmed to the fields the types require.
 */
import type { ModelUsage, SDKAssistantMessage, SDKMessage, SDKResultSuccess, SDKSystemMessage, SDKUserMessage } from "@anthropic-ai/claude-agent-sdk";

const MODEL = "claude-sonnet-4-5-20250929";
const SESSION_ID = "6f1d2c3b-8e4a-4b7f-9c21-5d0e7a9b3f10";

type Uuid = `${string}-${string}-${string}-${string}-${string}`;
const uuid = (n: number): Uuid => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

function init(n: number): SDKSystemMessage {
  return {
    type: "system",
    subtype: "init",
    apiKeySource: "ANTHROPIC_API_KEY",
    claude_code_version: "2.1.118",
    cwd: "/app",
    tools: ["Read", "Grep", "Glob"],
    mcp_servers: [],
    model: MODEL,
    permissionMode: "dontAsk",
    slash_commands: ["compact", "cost"],
    output_style: "default",
    skills: [],
    plugins: [],
    uuid: uuid(n),
    session_id: SESSION_ID,
  };
}

function assistant(n: number, content: SDKAssistantMessage["message"]["content"], stop: "tool_use" | "end_turn"): SDKAssistantMessage {
  return {
    type: "assistant",
    message: {
      id: `msg_01${n.toString().padStart(6, "0")}ReplayBot`,
      type: "message",
      role: "assistant",
      model: MODEL,
      content,
      container: null,
      context_management: null,
      diagnostics: null,
      stop_details: null,
      stop_reason: stop,
      stop_sequence: null,
      usage: {
        input_tokens: 4,
        output_tokens: 212,
        cache_read_input_tokens: 12_480,
        cache_creation_input_tokens: 1_904,
        cache_creation: { ephemeral_5m_input_tokens: 1_904, ephemeral_1h_input_tokens: 0 },
        fallback_credit: null,
        inference_geo: null,
        iterations: null,
        output_tokens_details: null,
        server_tool_use: null,
        service_tier: "standard",
        speed: null,
      },
    },
    parent_tool_use_id: null,
    uuid: uuid(n),
    session_id: SESSION_ID,
  };
}

function toolResult(n: number, toolUseId: string, content: string): SDKUserMessage {
  return {
    type: "user",
    message: { role: "user", content: [{ type: "tool_result", tool_use_id: toolUseId, content, is_error: false }] },
    parent_tool_use_id: null,
    tool_use_result: content,
    uuid: uuid(n),
    session_id: SESSION_ID,
  };
}

function result(n: number, text: string, tokens: { input: number; output: number; cacheRead: number; cacheCreation: number; costUSD: number; durationMs: number; turns: number }): SDKResultSuccess {
  const usage: ModelUsage = {
    inputTokens: tokens.input,
    outputTokens: tokens.output,
    cacheReadInputTokens: tokens.cacheRead,
    cacheCreationInputTokens: tokens.cacheCreation,
    webSearchRequests: 0,
    costUSD: tokens.costUSD,
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
  };
  return {
    type: "result",
    subtype: "success",
    duration_ms: tokens.durationMs,
    duration_api_ms: Math.round(tokens.durationMs * 0.87),
    is_error: false,
    num_turns: tokens.turns,
    result: text,
    stop_reason: "end_turn",
    total_cost_usd: tokens.costUSD,
    usage: {
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cache_read_input_tokens: tokens.cacheRead,
      cache_creation_input_tokens: tokens.cacheCreation,
      cache_creation: { ephemeral_5m_input_tokens: tokens.cacheCreation, ephemeral_1h_input_tokens: 0 },
      fallback_credit: null,
      inference_geo: "us",
      iterations: [],
      output_tokens_details: { thinking_tokens: 0 },
      server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
      service_tier: "standard",
      speed: "standard",
    },
    modelUsage: { [MODEL]: usage },
    permission_denials: [],
    uuid: uuid(n),
    session_id: SESSION_ID,
  };
}

const REVIEW = [
  "**Review summary** (replayed session: no model was called)",
  "",
  "- `src/server.ts:12`: the rate limit is hard-coded; read it from configuration.",
  "- `src/server.ts:40`: the retry loop has no upper bound; cap it, as #31 did for the limiter.",
  "",
  "Looks good otherwise.",
].join("\n");

/** A pull-request review that succeeds after two tool calls. */
export const recordedReview: readonly SDKMessage[] = [
  init(1),
  assistant(2, [{ type: "tool_use", id: "toolu_01GrepReplay", name: "Grep", input: { pattern: "rateLimit", path: "src" } }], "tool_use"),
  toolResult(3, "toolu_01GrepReplay", "src/server.ts:12: const rateLimit = 100;"),
  assistant(4, [{ type: "tool_use", id: "toolu_01ReadReplay", name: "Read", input: { file_path: "/app/src/server.ts" } }], "tool_use"),
  toolResult(5, "toolu_01ReadReplay", "export function serve() {\n  const rateLimit = 100;\n  …"),
  assistant(6, [{ type: "text", text: REVIEW, citations: null }], "end_turn"),
  result(7, REVIEW, { input: 31, output: 1_184, cacheRead: 41_302, cacheCreation: 9_876, costUSD: 0.0666771, durationMs: 31_870, turns: 5 }),
];

const REPLY = "The retry loop in `src/server.ts` is unbounded because `attempts` is never compared with `maxAttempts`. (replayed session)";

/** A reply to a mention, one turn, no tools. */
export const recordedMention: readonly SDKMessage[] = [
  init(1),
  assistant(2, [{ type: "text", text: REPLY, citations: null }], "end_turn"),
  result(3, REPLY, { input: 12, output: 164, cacheRead: 8_210, cacheCreation: 2_045, costUSD: 0.0126285, durationMs: 6_412, turns: 1 }),
];
