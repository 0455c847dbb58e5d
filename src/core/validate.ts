import { LIMITS } from "./limits.ts";
import { newRecordId } from "./ids.ts";
import type { Pricer } from "../pricing/pricer.ts";
import type {
  CacheEventRow,
  ExecutionRow,
  RateLimitEventRow,
  RecordKind,
  SessionEndRow,
  SessionStartRow,
  StoredRecord,
  ToolCallRow,
} from "./rows.ts";

/** Why a record was refused. Carries the field name only, never the value (it may hold a prompt). */
export class InvalidRecordError extends Error {
  override readonly name = "InvalidRecordError";
  constructor(
    message: string,
    /** The field at fault (`model`, `client.name`), when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

type Input = Record<string, unknown>;

function invalid(field: string, expected: string): never {
  throw new InvalidRecordError(`${field} must be ${expected}`, field);
}

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== "string" || value.length === 0 || value.length > LIMITS.shortString) {
    invalid(field, `a non-empty string of at most ${LIMITS.shortString} UTF-16 units`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.length > LIMITS.shortString) {
    invalid(field, `a string of at most ${LIMITS.shortString} UTF-16 units`);
  }
  return value;
}

function count(input: Input, field: string): number {
  const value = input[field];
  if (value === undefined || value === null) return 0;
  return countValue(value, field);
}

function optionalCount(input: Input, field: string): number | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  return countValue(value, field);
}

function countValue(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > LIMITS.maxCount) {
    invalid(field, "a finite, non-negative number");
  }
  return Math.round(value);
}

function optionalPositiveInteger(input: Input, field: string): number | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || (value as number) <= 0) invalid(field, "a positive integer");
  return value as number;
}

function oneOf<T extends string>(input: Input, field: string, allowed: readonly T[]): T {
  const value = input[field];
  if (!allowed.includes(value as T)) invalid(field, `one of ${allowed.join(", ")}`);
  return value as T;
}

/** Latest instant a record may carry: the year 9999. */
const MAX_EPOCH_MS = 253_402_300_799_999;

/** Converts epoch ms, a Date or an ISO string to integer epoch ms. */
export function toEpochMs(value: unknown, field: string): number {
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "string" && value.length <= 64) ms = Date.parse(value);
  else invalid(field, "epoch milliseconds, a Date or an ISO-8601 string");
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_EPOCH_MS) invalid(field, "a valid time after 1970");
  return Math.floor(ms);
}

function time(input: Input, field: string, fallback: number): number {
  const value = input[field];
  return value === undefined || value === null ? Math.floor(fallback) : toEpochMs(value, field);
}

function optionalTime(input: Input, field: string): number | null {
  const value = input[field];
  return value === undefined || value === null ? null : toEpochMs(value, field);
}

function attributes(input: Input): string | null {
  const value = input.attributes;
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) invalid("attributes", "a plain object");
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    invalid("attributes", "JSON-serialisable and free of cycles");
  }
  if (utf8Length(json, LIMITS.attributesBytes) > LIMITS.attributesBytes) invalid("attributes", `at most ${LIMITS.attributesBytes} bytes as JSON`);
  return json;
}

/** UTF-8 bytes of `text`, counted only as far as needed to tell whether it exceeds `limit`. */
function utf8Length(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length * 3; // no UTF-16 unit takes more than 3 bytes
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function recordId(input: Input): string {
  const value = input.id;
  if (value === undefined || value === null) return newRecordId();
  if (typeof value !== "string" || value.length === 0 || value.length > 128) invalid("id", "a non-empty string of at most 128 characters");
  return value;
}

function execution(input: Input, stamp: number, pricer: Pricer): ExecutionRow {
  const row: ExecutionRow = {
    id: recordId(input),
    createdAt: time(input, "createdAt", stamp),
    deliveryId: optionalString(input, "deliveryId"),
    repo: optionalString(input, "repo") ?? "",
    prNumber: optionalPositiveInteger(input, "prNumber"),
    eventType: optionalString(input, "eventType") ?? "",
    provider: optionalString(input, "provider") ?? "anthropic",
    model: requiredString(input, "model"),
    inputTokens: count(input, "inputTokens"),
    outputTokens: count(input, "outputTokens"),
    cacheReadTokens: count(input, "cacheReadTokens"),
    cacheCreationTokens: count(input, "cacheCreationTokens"),
    durationMs: count(input, "durationMs"),
    costUsd: 0,
    costSource: "unpriced",
    conclusion: requiredString(input, "conclusion"),
    sessionId: optionalString(input, "sessionId"),
    numTurns: optionalCount(input, "numTurns"),
    stopReason: optionalString(input, "stopReason"),
    attributes: attributes(input),
  };
  const reported = input.costUsd;
  if (reported !== undefined && reported !== null) {
    if (typeof reported !== "number" || !Number.isFinite(reported) || reported < 0 || reported > LIMITS.maxCostUsd) {
      invalid("costUsd", "a finite, non-negative number");
    }
    row.costUsd = reported;
    row.costSource = "reported";
  } else {
    const priced = pricer.price(row);
    row.costUsd = priced.costUsd;
    row.costSource = priced.costSource;
  }
  return row;
}

function rateLimitEvent(input: Input, stamp: number): RateLimitEventRow {
  return {
    id: recordId(input),
    createdAt: time(input, "createdAt", stamp),
    deliveryId: optionalString(input, "deliveryId"),
    eventType: optionalString(input, "eventType") ?? "",
    repo: optionalString(input, "repo") ?? "",
    prNumber: optionalPositiveInteger(input, "prNumber"),
    executionId: optionalString(input, "executionId"),
    resource: requiredString(input, "resource"),
    limit: optionalCount(input, "limit"),
    remaining: optionalCount(input, "remaining"),
    resetAt: optionalTime(input, "resetAt"),
    retryAttempts: count(input, "retryAttempts"),
    skippedQueries: count(input, "skippedQueries"),
    degradation: requiredString(input, "degradation"),
    attributes: attributes(input),
  };
}

const TOOL_OUTCOMES = ["ok", "tool_error", "protocol_error", "cancelled"] as const;

function toolCall(input: Input, stamp: number): ToolCallRow {
  return {
    id: recordId(input),
    createdAt: time(input, "createdAt", stamp),
    sessionId: optionalString(input, "sessionId"),
    executionId: optionalString(input, "executionId"),
    server: optionalString(input, "server") ?? "",
    toolName: requiredString(input, "toolName"),
    durationMs: count(input, "durationMs"),
    outcome: oneOf(input, "outcome", TOOL_OUTCOMES),
    errorType: optionalString(input, "errorType"),
    inputBytes: optionalCount(input, "inputBytes"),
    outputBytes: optionalCount(input, "outputBytes"),
    attributes: attributes(input),
  };
}

function sessionStart(input: Input, stamp: number): SessionStartRow {
  const client = input.client;
  if (client !== undefined && client !== null && typeof client !== "object") invalid("client", "an object");
  const clientFields = (client ?? {}) as Input;
  return {
    id: requiredString(input, "id"),
    createdAt: time(input, "startedAt", stamp),
    source: optionalString(input, "source"),
    clientName: optionalString(clientFields, "name"),
    clientVersion: optionalString(clientFields, "version"),
  };
}

function sessionEnd(input: Input, stamp: number): SessionEndRow {
  return { id: requiredString(input, "id"), endedAt: time(input, "endedAt", stamp) };
}

const CACHE_OUTCOMES = ["hit", "miss", "error"] as const;

function cacheEvent(input: Input, stamp: number): CacheEventRow {
  return {
    id: recordId(input),
    createdAt: time(input, "createdAt", stamp),
    cache: requiredString(input, "cache"),
    outcome: oneOf(input, "outcome", CACHE_OUTCOMES),
    deliveryId: optionalString(input, "deliveryId"),
    eventType: optionalString(input, "eventType") ?? "",
    repo: optionalString(input, "repo") ?? "",
  };
}

/** Kinds in queue order; the index is the small integer the hot path stores. */
export const KINDS: readonly RecordKind[] = [
  "execution",
  "rateLimitEvent",
  "toolCall",
  "sessionStart",
  "sessionEnd",
  "cacheEvent",
];

/**
 * Checks and normalises one recorded value into a stored record, pricing executions that
 * carry no cost. Throws `InvalidRecordError` (or whatever a hostile getter throws).
 */
export function prepareRecord(kind: RecordKind, value: unknown, stamp: number, pricer: Pricer): StoredRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidRecordError("record must be an object");
  }
  const input = value as Input;
  switch (kind) {
    case "execution":
      return { kind, row: execution(input, stamp, pricer) };
    case "rateLimitEvent":
      return { kind, row: rateLimitEvent(input, stamp) };
    case "toolCall":
      return { kind, row: toolCall(input, stamp) };
    case "sessionStart":
      return { kind, row: sessionStart(input, stamp) };
    case "sessionEnd":
      return { kind, row: sessionEnd(input, stamp) };
    case "cacheEvent":
      return { kind, row: cacheEvent(input, stamp) };
  }
}
