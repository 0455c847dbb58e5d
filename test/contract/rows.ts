import type { CacheEventRow, ExecutionRow, RateLimitEventRow, StoredRecord, ToolCallRow } from "tally";

let sequence = 0;
/** A unique id for a test row. */
export function testId(prefix: string): string {
  sequence++;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export function execution(overrides: Partial<ExecutionRow> = {}): StoredRecord {
  const row: ExecutionRow = {
    id: testId("exec"),
    createdAt: Date.now(),
    deliveryId: null,
    repo: "acme/api",
    prNumber: null,
    eventType: "pull_request.opened",
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    inputTokens: 100,
    outputTokens: 20,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    durationMs: 1000,
    costUsd: 0.01,
    costSource: "reported",
    conclusion: "success",
    sessionId: null,
    numTurns: null,
    stopReason: null,
    attributes: null,
    ...overrides,
  };
  return { kind: "execution", row };
}

export function rateLimitEvent(overrides: Partial<RateLimitEventRow> = {}): StoredRecord {
  const row: RateLimitEventRow = {
    id: testId("rle"),
    createdAt: Date.now(),
    deliveryId: null,
    eventType: "pull_request.opened",
    repo: "acme/api",
    prNumber: null,
    executionId: null,
    resource: "search",
    limit: null,
    remaining: null,
    resetAt: null,
    retryAttempts: 0,
    skippedQueries: 0,
    degradation: "partial",
    attributes: null,
    ...overrides,
  };
  return { kind: "rateLimitEvent", row };
}

export function toolCall(overrides: Partial<ToolCallRow> = {}): StoredRecord {
  const row: ToolCallRow = {
    id: testId("tool"),
    createdAt: Date.now(),
    sessionId: null,
    executionId: null,
    server: "github",
    toolName: "search_code",
    durationMs: 120,
    outcome: "ok",
    errorType: null,
    inputBytes: 64,
    outputBytes: 2048,
    attributes: null,
    ...overrides,
  };
  return { kind: "toolCall", row };
}

export function cacheEvent(overrides: Partial<CacheEventRow> = {}): StoredRecord {
  const row: CacheEventRow = {
    id: testId("cache"),
    createdAt: Date.now(),
    cache: "search",
    outcome: "hit",
    deliveryId: null,
    eventType: "",
    repo: "",
    ...overrides,
  };
  return { kind: "cacheEvent", row };
}
