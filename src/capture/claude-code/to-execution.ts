import { UNKNOWN_MODEL } from "../claude-agent/to-execution.ts";
import type { UsageLine } from "./parse-line.ts";
import { hexDigest } from "./hex-digest.ts";

/** The `eventType` of every execution imported from a transcript: one API response. */
export const CLAUDE_CODE_EVENT_TYPE = "claude-code.api-response";

const MAX_ID_LENGTH = 128;

/**
 * The record id of one API response, the same on every machine and every run, so re-imports,
 * overlapping copies and the response's own repeated lines (one per content block, written
 * while it streams) all name one execution:
 * - `claude-code:<requestId>:<message.id>` when both are present (ccusage's dedupe key, the
 *   request id first because the API's request ids are time-ordered — `req_011CR74a…` in July
 *   2025, `req_011CXu1k…` in February 2026 — while older message ids are random: ids that
 *   sort by time make inserts land at the end of the id index, not all over it);
 * - `claude-code:msg:<message.id>` when the line has no `requestId` (some Claude Code
 *   versions and proxies write none): the message id alone names the API response, so its
 *   streamed lines are one response, as ccusage 20 counts them (Tally before 0.2 and ccusage 18
 *   counted every such line);
 * - otherwise `claude-code:line:<uuid>`, the line's own id, so a second copy of the file adds nothing;
 * - otherwise `claude-code:sha256:<hash of the line's text>`.
 * An id longer than 128 characters is replaced by `claude-code:sha256:<hash of it>`.
 */
export function executionIdFor(line: UsageLine, rawText: string): string {
  let id: string;
  if (line.messageId !== null) id = line.requestId !== null ? `claude-code:${line.requestId}:${line.messageId}` : `claude-code:msg:${line.messageId}`;
  else if (line.uuid !== null) id = `claude-code:line:${line.uuid}`;
  else return `claude-code:sha256:${sha256(rawText)}`;
  return id.length <= MAX_ID_LENGTH ? id : `claude-code:sha256:${sha256(id)}`;
}

function sha256(text: string): string {
  return hexDigest("sha256", text);
}

/** Where a line was read, for what the line itself does not say. */
export interface LineContext {
  /** The file's `repo` (see `repoFor`). */
  repo: string;
  /** Session id when the line has none: the file name without `.jsonl`. */
  fallbackSessionId: string;
}

/**
 * One API response as an execution record, ready for `prepareRecord("execution", …)`:
 * tokens with Anthropic semantics (input excludes cache reads and writes, as the API reports
 * them), `costUSD` kept as the reported cost when present (priced otherwise), conclusion
 * `success` (a response was received), provider `anthropic`, duration 0 (transcripts do not
 * time API calls). Attributes keep what helps drill down: cwd, Claude Code version, and
 * whether the call came from a side chain or a subagent.
 */
export function toExecutionRecord(line: UsageLine, id: string, context: LineContext): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  if (line.cwd !== null) attributes.cwd = line.cwd;
  if (line.version !== null) attributes.version = line.version;
  if (line.isSidechain) attributes.sidechain = true;
  if (line.agentId !== null) attributes.agentId = line.agentId;
  return {
    id,
    createdAt: line.createdAt,
    repo: context.repo,
    eventType: CLAUDE_CODE_EVENT_TYPE,
    provider: "anthropic",
    // The rare API response that names no model still counts (ccusage counts those too).
    model: line.model ?? UNKNOWN_MODEL,
    inputTokens: line.inputTokens,
    outputTokens: line.outputTokens,
    cacheReadTokens: line.cacheReadTokens,
    cacheCreationTokens: line.cacheCreationTokens,
    durationMs: 0,
    costUsd: line.costUsd,
    conclusion: "success",
    sessionId: line.sessionId ?? context.fallbackSessionId,
    stopReason: line.stopReason,
    attributes,
  };
}
