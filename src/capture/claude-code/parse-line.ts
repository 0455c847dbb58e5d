/**
 * One line of a Claude Code / Agent SDK transcript, read defensively: the format is internal
 * to Claude Code and changes between versions, so only the few fields Tally needs are looked
 * at, each checked for its type, and anything else is ignored.
 *
 * Which lines count is ccusage 18's rule (`usageDataSchema` in its data loader), so that token
 * totals match it: a JSON object with a parseable `timestamp` and `message.usage` holding
 * numeric `input_tokens` and `output_tokens`. On top of that, Tally leaves out lines whose
 * `message.model` is `<synthetic>` and lines marked `isApiErrorMessage` (Claude Code's own
 * error notices: they carry zero usage, so leaving them out changes no total).
 */

/** The fields of one API-response line that become an execution. */
export interface UsageLine {
  /** `message.id`, the API response id (`msg_…`). */
  messageId: string | null;
  /** `requestId` (`req_…`). */
  requestId: string | null;
  /** The line's own `uuid`. */
  uuid: string | null;
  sessionId: string | null;
  /** Epoch ms of `timestamp`. */
  createdAt: number;
  /** `message.model`, or null when absent. */
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** `costUSD`, written by older Claude Code versions; null when absent. */
  costUsd: number | null;
  cwd: string | null;
  version: string | null;
  isSidechain: boolean;
  agentId: string | null;
  stopReason: string | null;
}

/** Why a well-formed line produced no execution. */
export type IgnoredReason = "noUsage" | "synthetic" | "apiError" | "invalid";

export type ParsedLine =
  | { kind: "usage"; line: UsageLine }
  | { kind: "ignored"; reason: IgnoredReason }
  | { kind: "malformed" };

const MALFORMED: ParsedLine = { kind: "malformed" };
const IGNORED = {
  noUsage: { kind: "ignored", reason: "noUsage" },
  synthetic: { kind: "ignored", reason: "synthetic" },
  apiError: { kind: "ignored", reason: "apiError" },
  invalid: { kind: "ignored", reason: "invalid" },
} as const satisfies Record<IgnoredReason, ParsedLine>;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

function tokens(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Classifies one line (without its newline). `malformed` means it is not a JSON object at
 * all (a truncated write, two writes run together, garbage); a JSON object that is not an
 * API response is `ignored` with the reason.
 */
export function parseTranscriptLine(raw: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return MALFORMED;
  }
  return classifyTranscriptEntry(value);
}

/** {@link parseTranscriptLine} for an already parsed value. */
export function classifyTranscriptEntry(value: unknown): ParsedLine {
  if (!isObject(value)) return MALFORMED;
  const message = value.message;
  if (!isObject(message)) return IGNORED.noUsage;
  const usage = message.usage;
  if (!isObject(usage)) return IGNORED.noUsage;
  const model = text(message.model);
  if (model === "<synthetic>") return IGNORED.synthetic;
  if (value.isApiErrorMessage === true) return IGNORED.apiError;
  const inputTokens = tokens(usage.input_tokens);
  const outputTokens = tokens(usage.output_tokens);
  if (inputTokens === null || outputTokens === null) return IGNORED.invalid;
  const createdAt = typeof value.timestamp === "string" ? Date.parse(value.timestamp) : Number.NaN;
  if (!Number.isFinite(createdAt)) return IGNORED.invalid;
  const cost = tokens(value.costUSD);
  return {
    kind: "usage",
    line: {
      messageId: text(message.id),
      requestId: text(value.requestId),
      uuid: text(value.uuid),
      sessionId: text(value.sessionId),
      createdAt,
      model,
      inputTokens,
      outputTokens,
      cacheReadTokens: tokens(usage.cache_read_input_tokens) ?? 0,
      cacheCreationTokens: tokens(usage.cache_creation_input_tokens) ?? 0,
      costUsd: cost !== null && cost >= 0 ? cost : null,
      cwd: text(value.cwd),
      version: text(value.version),
      isSidechain: value.isSidechain === true,
      agentId: text(value.agentId),
      stopReason: text(message.stop_reason),
    },
  };
}
