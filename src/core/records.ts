/**
 * What producers hand to `record*()`. Every field is read at flush time, not on the
 * hot path, so a record must not be mutated after it was recorded.
 */

/** A point in time: epoch milliseconds, a `Date`, or an ISO-8601 string. */
export type TimeInput = number | Date | string;

/** Free-form attributes, stored as JSON; must be JSON-serialisable and acyclic. */
export type Attributes = Record<string, unknown>;

/** Fields every record may carry. */
export interface RecordBase {
  /** Stable id; a retried or replayed record with the same id is stored once. Default: a UUIDv7 made at first flush. */
  id?: string;
  /** When it happened. Default: the moment `record*()` was called. */
  createdAt?: TimeInput;
}

/** One agent run. Token semantics are Anthropic's: `inputTokens` excludes cache reads and writes. */
export interface ExecutionRecord extends RecordBase {
  model: string;
  /** `success`, `failure`, `error`, or another short word of your own. */
  conclusion: string;
  repo?: string;
  eventType?: string;
  deliveryId?: string | null;
  prNumber?: number | null;
  /** @default "anthropic" */
  provider?: string;
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
  durationMs?: number;
  /** Cost as reported by the producer; when absent Tally prices the tokens itself. */
  costUsd?: number | null;
  sessionId?: string | null;
  numTurns?: number | null;
  stopReason?: string | null;
  attributes?: Attributes | null;
}

/** One run degraded by a rate limit. At most one is stored per (deliveryId, eventType). */
export interface RateLimitEventRecord extends RecordBase {
  /** What was limited, e.g. `search`. */
  resource: string;
  /** How the run degraded, e.g. `partial` or `skipped`. */
  degradation: string;
  deliveryId?: string | null;
  eventType?: string;
  repo?: string;
  prNumber?: number | null;
  executionId?: string | null;
  limit?: number | null;
  remaining?: number | null;
  resetAt?: TimeInput | null;
  retryAttempts?: number;
  skippedQueries?: number;
  attributes?: Attributes | null;
}

/** The outcomes a tool call can have. */
export type ToolCallOutcome = "ok" | "tool_error" | "protocol_error" | "cancelled";

/** One tool invocation. */
export interface ToolCallRecord extends RecordBase {
  toolName: string;
  outcome: ToolCallOutcome;
  /** The MCP server (or other tool host) that served it. */
  server?: string;
  sessionId?: string | null;
  executionId?: string | null;
  durationMs?: number;
  errorType?: string | null;
  inputBytes?: number | null;
  outputBytes?: number | null;
  attributes?: Attributes | null;
}

/** Who opened a session. */
export interface SessionOptions {
  /** Where the session comes from, e.g. `mcp` or `claude-code`. */
  source?: string;
  client?: { name?: string; version?: string };
  /** When it started. Default: now. */
  startedAt?: TimeInput;
}

/** The outcomes a cache lookup can have. */
export type CacheOutcome = "hit" | "miss" | "error";

/** One cache lookup. */
export interface CacheEventRecord extends RecordBase {
  cache: string;
  outcome: CacheOutcome;
  deliveryId?: string | null;
  eventType?: string;
  repo?: string;
}
