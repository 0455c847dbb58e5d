import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createTelemetry, LIMITS, type Telemetry } from "../../src/index.ts";
import { ManualClock } from "../support/manual-clock.ts";
import { collectingLogger, observedSqliteStore } from "../support/stores.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { expectNoUnhandledRejections } from "../support/no-unhandled.ts";

afterAll(removeTempDirs);

expectNoUnhandledRejections();

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const huge = "x".repeat(2_000_000);
const throwingGetter = Object.defineProperty({ conclusion: "success" }, "model", {
  get() {
    throw new Error("getter exploded");
  },
  enumerable: true,
});
const hostileProxy = new Proxy({}, {
  get() {
    throw new Error("proxy trap");
  },
  has() {
    throw new Error("proxy trap");
  },
  ownKeys() {
    throw new Error("proxy trap");
  },
});

const validExecution = { model: "claude-sonnet-4-5", conclusion: "success", costUsd: 0.01 };
const validRateLimit = { resource: "search", degradation: "partial" };
const validToolCall = { toolName: "search_code", outcome: "ok" };
const validCacheEvent = { cache: "search", outcome: "hit" };

/** Values that are wrong for every record kind. */
const notRecords: unknown[] = [null, undefined, 0, 42, "run", true, Symbol("s"), 10n, [], [validExecution], () => {}, hostileProxy];

type Case = [label: string, value: unknown];

const executionCases: Case[] = [
  ["missing model", { conclusion: "success" }],
  ["missing conclusion", { model: "m" }],
  ["empty model", { ...validExecution, model: "" }],
  ["model of wrong type", { ...validExecution, model: 42 }],
  ["huge repo", { ...validExecution, repo: huge }],
  ["huge model", { ...validExecution, model: huge }],
  ["NaN input tokens", { ...validExecution, inputTokens: Number.NaN }],
  ["negative output tokens", { ...validExecution, outputTokens: -1 }],
  ["infinite cache read tokens", { ...validExecution, cacheReadTokens: Number.POSITIVE_INFINITY }],
  ["string tokens", { ...validExecution, inputTokens: "12" }],
  ["bigint tokens", { ...validExecution, inputTokens: 12n }],
  ["negative duration", { ...validExecution, durationMs: -5 }],
  ["negative cost", { ...validExecution, costUsd: -0.01 }],
  ["NaN cost", { ...validExecution, costUsd: Number.NaN }],
  ["fractional PR number", { ...validExecution, prNumber: 4.5 }],
  ["zero PR number", { ...validExecution, prNumber: 0 }],
  ["circular attributes", { ...validExecution, attributes: circular }],
  ["bigint in attributes", { ...validExecution, attributes: { n: 1n } }],
  ["huge attributes", { ...validExecution, attributes: { blob: huge } }],
  ["array attributes", { ...validExecution, attributes: [1, 2] }],
  ["invalid createdAt string", { ...validExecution, createdAt: "yesterday-ish" }],
  ["invalid Date", { ...validExecution, createdAt: new Date(Number.NaN) }],
  ["createdAt before 1970", { ...validExecution, createdAt: -1 }],
  ["createdAt object", { ...validExecution, createdAt: {} }],
  ["empty id", { ...validExecution, id: "" }],
  ["numeric id", { ...validExecution, id: 7 }],
  ["huge id", { ...validExecution, id: huge }],
  ["getter that throws", throwingGetter],
];

const rateLimitCases: Case[] = [
  ["missing resource", { degradation: "partial" }],
  ["missing degradation", { resource: "search" }],
  ["negative retries", { ...validRateLimit, retryAttempts: -1 }],
  ["NaN skipped queries", { ...validRateLimit, skippedQueries: Number.NaN }],
  ["bad resetAt", { ...validRateLimit, resetAt: "soon" }],
  ["huge delivery id", { ...validRateLimit, deliveryId: huge }],
];

const toolCallCases: Case[] = [
  ["missing tool name", { outcome: "ok" }],
  ["unknown outcome", { ...validToolCall, outcome: "exploded" }],
  ["missing outcome", { toolName: "x" }],
  ["negative bytes", { ...validToolCall, inputBytes: -1 }],
  ["circular attributes", { ...validToolCall, attributes: circular }],
];

const cacheEventCases: Case[] = [
  ["missing cache", { outcome: "hit" }],
  ["unknown outcome", { ...validCacheEvent, outcome: "maybe" }],
  ["huge cache name", { ...validCacheEvent, cache: huge }],
];

function telemetryWithStore() {
  const observed = observedSqliteStore();
  const logger = collectingLogger();
  const telemetry: Telemetry = createTelemetry({ store: observed.store, logger, clock: new ManualClock(), flushOnExit: false });
  return { ...observed, logger, telemetry };
}

describe("hostile input never throws and is counted as invalid", () => {
  const kinds = [
    ["recordExecution", validExecution, executionCases, "executions"],
    ["recordRateLimitEvent", validRateLimit, rateLimitCases, "rate_limit_events"],
    ["recordToolCall", validToolCall, toolCallCases, "tool_calls"],
    ["recordCacheEvent", validCacheEvent, cacheEventCases, "cache_events"],
  ] as const;

  for (const [method, valid, cases, table] of kinds) {
    test(`${method}: ${notRecords.length} non-records and ${cases.length} broken records are dropped; valid ones around them are stored`, async () => {
      const { telemetry, count, logger } = telemetryWithStore();
      const record = telemetry[method] as (value: unknown) => void;
      record({ ...valid });
      for (const value of notRecords) expect(() => record(value)).not.toThrow();
      for (const [, value] of cases) expect(() => record(value)).not.toThrow();
      record({ ...valid });
      await telemetry.flush();
      expect(telemetry.stats().dropped.invalid).toBe(notRecords.length + cases.length);
      expect(count(table)).toBe(2);
      // Logged once for the whole episode, and never with the offending value.
      const warnings = logger.entries.filter((e) => e.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(JSON.stringify(logger.entries)).not.toContain("xxxxxxxxxx");
      await telemetry.shutdown();
    });
  }

  test("each broken execution is refused for the field at fault", async () => {
    for (const [label, value] of executionCases) {
      const { telemetry } = telemetryWithStore();
      telemetry.recordExecution(value as never);
      await telemetry.flush();
      expect({ label, invalid: telemetry.stats().dropped.invalid }).toEqual({ label, invalid: 1 });
      await telemetry.shutdown();
    }
  });

  test("sessions: bad ids and options are counted, never thrown", async () => {
    const { telemetry, count } = telemetryWithStore();
    for (const id of [null, undefined, 42, "", huge, {}]) {
      expect(() => telemetry.startSession(id as never)).not.toThrow();
      expect(() => telemetry.endSession(id as never)).not.toThrow();
    }
    expect(() => telemetry.startSession("ok-1", hostileProxy as never)).not.toThrow();
    expect(() => telemetry.startSession("ok-2", { client: "not an object" as never })).not.toThrow();
    expect(() => telemetry.startSession("ok-3", { source: "mcp", client: { name: "c", version: "1" } })).not.toThrow();
    await telemetry.flush();
    expect(telemetry.stats().dropped.invalid).toBe(14);
    expect(count("sessions")).toBe(1);
    await telemetry.shutdown();
  });

  test("mutating a record after recording cannot crash the writer", async () => {
    const { telemetry, count } = telemetryWithStore();
    const record: Record<string, unknown> = { ...validExecution };
    telemetry.recordExecution(record as never);
    record.inputTokens = Number.NaN;
    telemetry.recordExecution({ ...validExecution });
    await telemetry.flush();
    expect(count("executions")).toBe(1);
    expect(telemetry.stats().dropped.invalid).toBe(1);
    await telemetry.shutdown();
  });
});

/** One value read back from the file the store wrote. */
function readBack(path: string, sql: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return Object.values(db.query(sql).get() as Record<string, unknown>)[0];
  } finally {
    db.close();
  }
}

describe("size limits are exact at their edge (src/core/limits.ts)", () => {
  type Method = "recordExecution" | "recordRateLimitEvent" | "recordToolCall" | "recordCacheEvent";
  const stringFields: [method: Method, valid: object, field: string, table: string, column: string][] = [
    ["recordExecution", validExecution, "model", "executions", "model"],
    ["recordExecution", validExecution, "repo", "executions", "repo"],
    ["recordExecution", validExecution, "deliveryId", "executions", "delivery_id"],
    ["recordRateLimitEvent", validRateLimit, "resource", "rate_limit_events", "resource"],
    ["recordToolCall", validToolCall, "toolName", "tool_calls", "tool_name"],
    ["recordCacheEvent", validCacheEvent, "cache", "cache_events", "cache"],
  ];

  for (const [method, valid, field, table, column] of stringFields) {
    test(`${method}: ${field} of exactly ${LIMITS.shortString} UTF-16 units is stored; one more is invalid`, async () => {
      const { telemetry, count, path } = telemetryWithStore();
      const record = telemetry[method] as (value: unknown) => void;
      record({ ...valid, [field]: "a".repeat(LIMITS.shortString) });
      record({ ...valid, [field]: "b".repeat(LIMITS.shortString + 1) });
      await telemetry.flush();
      expect(telemetry.stats().dropped.invalid).toBe(1);
      expect(count(table)).toBe(1);
      expect(readBack(path, `SELECT ${column} FROM ${table}`)).toBe("a".repeat(LIMITS.shortString));
      await telemetry.shutdown();
    });
  }

  /** Attributes whose JSON is exactly `length` characters: {"pad":"xxx…"}. */
  const attributesOfJsonLength = (length: number) => {
    const attrs = { pad: "x".repeat(length - JSON.stringify({ pad: "" }).length) };
    expect(JSON.stringify(attrs).length).toBe(length);
    return attrs;
  };

  for (const [method, valid, table] of [
    ["recordExecution", validExecution, "executions"],
    ["recordRateLimitEvent", validRateLimit, "rate_limit_events"],
    ["recordToolCall", validToolCall, "tool_calls"],
  ] as const) {
    test(`${method}: attributes of exactly ${LIMITS.attributesBytes} bytes of JSON are stored; one byte more is invalid`, async () => {
      const { telemetry, count, path } = telemetryWithStore();
      const record = telemetry[method] as (value: unknown) => void;
      record({ ...valid, attributes: attributesOfJsonLength(LIMITS.attributesBytes) });
      record({ ...valid, attributes: attributesOfJsonLength(LIMITS.attributesBytes + 1) });
      await telemetry.flush();
      expect(telemetry.stats().dropped.invalid).toBe(1);
      expect(count(table)).toBe(1);
      expect(readBack(path, `SELECT length(CAST(attributes AS BLOB)) FROM ${table}`)).toBe(LIMITS.attributesBytes);
      await telemetry.shutdown();
    });
  }

  test("the attributes limit counts UTF-8 bytes, not characters: 2-byte and 4-byte text at the edge", async () => {
    const { telemetry, count, path } = telemetryWithStore();
    const overhead = JSON.stringify({ pad: "" }).length; // ASCII: one byte each
    const fits = { pad: "é".repeat((LIMITS.attributesBytes - overhead) / 2) }; // exactly at the limit in bytes
    const overByBytes = { pad: "é".repeat((LIMITS.attributesBytes - overhead) / 2 + 1) };
    // 32,768 characters of é: within the limit in characters, twice it in bytes.
    const halfInCharacters = { pad: "é".repeat(LIMITS.attributesBytes / 2) };
    const emoji = { pad: "😀".repeat(Math.floor((LIMITS.attributesBytes - overhead) / 4) + 1) }; // 4 bytes per character
    telemetry.recordExecution({ ...validExecution, attributes: fits });
    telemetry.recordExecution({ ...validExecution, attributes: overByBytes });
    telemetry.recordExecution({ ...validExecution, attributes: halfInCharacters });
    telemetry.recordExecution({ ...validExecution, attributes: emoji });
    await telemetry.flush();
    expect(telemetry.stats().dropped.invalid).toBe(3);
    expect(count("executions")).toBe(1);
    expect(readBack(path, "SELECT length(CAST(attributes AS BLOB)) FROM executions")).toBe(LIMITS.attributesBytes);
    await telemetry.shutdown();
  });

  test(`counts up to ${LIMITS.maxCount} and costs up to $${LIMITS.maxCostUsd} are stored; the next number up is invalid`, async () => {
    const { telemetry, count, path } = telemetryWithStore();
    telemetry.recordExecution({ ...validExecution, inputTokens: LIMITS.maxCount, costUsd: LIMITS.maxCostUsd });
    // The next doubles above each bound.
    telemetry.recordExecution({ ...validExecution, inputTokens: LIMITS.maxCount + 2 });
    telemetry.recordExecution({ ...validExecution, costUsd: LIMITS.maxCostUsd * (1 + Number.EPSILON) });
    await telemetry.flush();
    expect(telemetry.stats().dropped.invalid).toBe(2);
    expect(count("executions")).toBe(1);
    expect(readBack(path, "SELECT input_tokens FROM executions")).toBe(LIMITS.maxCount);
    expect(readBack(path, "SELECT cost_usd FROM executions")).toBe(LIMITS.maxCostUsd);
    await telemetry.shutdown();
  });
});
