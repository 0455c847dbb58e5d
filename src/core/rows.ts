/**
 * Validated, normalised records as stores receive them: times are integer epoch
 * milliseconds (UTC), absent optionals are `null`, ids are always set.
 */

/** How `costUsd` was obtained. */
export type CostSource = "reported" | "computed" | "unpriced";

export interface ExecutionRow {
  id: string;
  createdAt: number;
  deliveryId: string | null;
  repo: string;
  prNumber: number | null;
  eventType: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  durationMs: number;
  costUsd: number;
  costSource: CostSource;
  conclusion: string;
  sessionId: string | null;
  numTurns: number | null;
  stopReason: string | null;
  /** JSON text. */
  attributes: string | null;
}

export interface RateLimitEventRow {
  id: string;
  createdAt: number;
  deliveryId: string | null;
  eventType: string;
  repo: string;
  prNumber: number | null;
  executionId: string | null;
  resource: string;
  limit: number | null;
  remaining: number | null;
  resetAt: number | null;
  retryAttempts: number;
  skippedQueries: number;
  degradation: string;
  attributes: string | null;
}

export interface ToolCallRow {
  id: string;
  createdAt: number;
  sessionId: string | null;
  executionId: string | null;
  server: string;
  toolName: string;
  durationMs: number;
  outcome: "ok" | "tool_error" | "protocol_error" | "cancelled";
  errorType: string | null;
  inputBytes: number | null;
  outputBytes: number | null;
  attributes: string | null;
}

export interface SessionStartRow {
  id: string;
  createdAt: number;
  source: string | null;
  clientName: string | null;
  clientVersion: string | null;
}

export interface SessionEndRow {
  id: string;
  endedAt: number;
}

export interface CacheEventRow {
  id: string;
  createdAt: number;
  cache: string;
  outcome: "hit" | "miss" | "error";
  deliveryId: string | null;
  eventType: string;
  repo: string;
}

/** One item of a batch, in the order it was recorded. */
export type StoredRecord =
  | { kind: "execution"; row: ExecutionRow }
  | { kind: "rateLimitEvent"; row: RateLimitEventRow }
  | { kind: "toolCall"; row: ToolCallRow }
  | { kind: "sessionStart"; row: SessionStartRow }
  | { kind: "sessionEnd"; row: SessionEndRow }
  | { kind: "cacheEvent"; row: CacheEventRow };

/** What `Store.write` receives. */
export type Batch = readonly StoredRecord[];

export type RecordKind = StoredRecord["kind"];
