/**
 * Hostile input on every route, through `app.request()` (no socket) on a real SQLite file:
 * seeded-random bodies and query strings, truncated and mutated protobuf, JSON with the wrong
 * type at every level, deep nesting, huge strings, broken text, lying headers, gzip bombs and
 * missing tokens. Whatever arrives, the server answers a 4xx (the right one where the input
 * decides it) or a 200, never a 500 and never an exception, and the database stays intact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ExportLogsServiceRequestSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { ExportMetricsServiceRequestSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { ExportTraceServiceRequestSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import type { Logger } from "../../src/core/logger.ts";
import { createServerApp, type ServerApp } from "../../src/server/app.ts";
import { startServer } from "../../src/server/start.ts";
import { REPORT_OPTIONS } from "../../src/report/request.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { rng } from "../contract/random.ts";
import { countRows, queryRows } from "../support/sql.ts";
import { tempDir } from "../support/temp-dir.ts";

/** One seed, one sequence of inputs; set TALLY_FUZZ_SEED to explore others. */
const SEED = Number(process.env.TALLY_FUZZ_SEED ?? 20261122);
const ROUNDS = 25;

const INGEST_TOKEN = "ingest-token-0123456789";
const READ_TOKEN = "read-token-0123456789ab";
const NOW = Date.UTC(2026, 10, 22, 12);
const NOW_NS = BigInt(NOW) * 1_000_000n;

// ---------------------------------------------------------------------------------------------
// One database, three apps on it: default limits, a 64 KiB body limit (for bombs), and tokens.

let store: SqliteStore;
let open: ServerApp;
let small: ServerApp;
let guarded: ServerApp;
/** What the apps logged as unexpected errors: a 500 logs here, so this must stay empty. */
const loggedErrors: unknown[] = [];
const logger: Logger = { error: (obj, msg) => void loggedErrors.push({ obj, msg }), warn() {}, info() {} };

const RAW_TABLES = ["executions", "tool_calls", "rate_limit_events", "sessions", "cache_events"] as const;
let baseline: Record<string, unknown[]>;

const baselineRecords = [
  { kind: "execution", id: "base-run-1", model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 100, outputTokens: 20, sessionId: "base-session", createdAt: NOW - 60_000 },
  { kind: "execution", id: "base-run-2", model: "claude-haiku-4-5", conclusion: "failure", repo: "acme/web", costUsd: 0.25, deliveryId: "base-d1", eventType: "pull_request", createdAt: NOW - 30_000 },
  { kind: "toolCall", id: "base-tool-1", toolName: "search", outcome: "tool_error", errorType: "timeout", durationMs: 30, sessionId: "base-session", createdAt: NOW - 59_000 },
  { kind: "rateLimitEvent", id: "base-limit-1", resource: "search", degradation: "partial", deliveryId: "base-d1", eventType: "pull_request", createdAt: NOW - 29_000 },
  { kind: "sessionStart", id: "base-session", source: "mcp", client: { name: "inspector", version: "1.0" }, startedAt: NOW - 61_000 },
  { kind: "cacheEvent", id: "base-cache-1", cache: "diffs", outcome: "hit", deliveryId: "base-d1", eventType: "pull_request", createdAt: NOW - 29_500 },
];

function snapshot(): Record<string, unknown[]> {
  return Object.fromEntries(RAW_TABLES.map((table) => [table, queryRows(store, `SELECT * FROM ${table} WHERE id LIKE 'base-%' ORDER BY id`)]));
}

beforeAll(async () => {
  store = openSqliteStore({ path: join(tempDir(), "tally.db"), retentionDays: 0, now: () => NOW });
  open = createServerApp({ store, now: () => NOW, logger });
  small = createServerApp({ store, now: () => NOW, logger, maxBodyBytes: 64 * 1024 });
  guarded = createServerApp({ store, now: () => NOW, logger, ingestToken: INGEST_TOKEN, readToken: READ_TOKEN });
  const response = await postJson(open, "/v1/batch", { records: baselineRecords });
  const answer = (await response.json()) as { accepted: number };
  expect(answer.accepted).toBe(baselineRecords.length);
  baseline = snapshot();
});

afterAll(async () => {
  await Promise.all([open.drain(), small.drain(), guarded.drain()]);
  store.close();
});

// ---------------------------------------------------------------------------------------------
// Sending, and collecting what went wrong instead of stopping at the first.

interface Outcome {
  status: number;
  body: Uint8Array;
  type: string | null;
}

/** Sends a request; an exception out of app.request() becomes status -1 (and fails the check). */
async function send(app: ServerApp, path: string, init?: RequestInit): Promise<Outcome> {
  try {
    const response = await app.app.request(path, init);
    return { status: response.status, body: new Uint8Array(await response.arrayBuffer()), type: response.headers.get("content-type") };
  } catch (error) {
    return { status: -1, body: new TextEncoder().encode(String(error)), type: null };
  }
}

function post(body: NonNullable<RequestInit["body"]> | Uint8Array, contentType: string | null, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { ...(contentType === null ? {} : { "content-type": contentType }), ...headers }, body: body as RequestInit["body"] };
}

async function postJson(app: ServerApp, path: string, value: unknown): Promise<Response> {
  return await app.app.request(path, post(JSON.stringify(value), "application/json"));
}

/** Collects every request whose status is not allowed; the test asserts the list is empty. */
class Verdicts {
  readonly wrong: string[] = [];
  count = 0;
  check(label: string, outcome: Outcome, allowed: readonly number[]): void {
    this.count++;
    if (!allowed.includes(outcome.status)) {
      this.wrong.push(`${label}: ${outcome.status} (allowed ${allowed.join("/")}) ${new TextDecoder().decode(outcome.body.subarray(0, 160))}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Valid bodies, to be broken.

const TRACE_ID = "5b8efff798038103d269b633813fc60c";
const SPAN_ID = "eee19b7ec3c1b174";
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((pair) => Number.parseInt(pair, 16)));

type Route = "/v1/batch" | "/v1/traces" | "/v1/logs" | "/v1/metrics";
const OTLP_ROUTES = ["/v1/traces", "/v1/logs", "/v1/metrics"] as const;
type OtlpRoute = (typeof OTLP_ROUTES)[number];
const POST_TARGETS: { route: Route; type: "application/json" | "application/x-protobuf" }[] = [
  { route: "/v1/batch", type: "application/json" },
  ...OTLP_ROUTES.flatMap((route) => [
    { route, type: "application/json" as const },
    { route, type: "application/x-protobuf" as const },
  ]),
];

const stringAttr = (key: string, value: string) => ({ key, value: { stringValue: value } });
const intAttr = (key: string, value: number) => ({ key, value: { intValue: String(value) } });

function spanJson(extraAttributes: unknown[] = [], ids = { traceId: TRACE_ID, spanId: SPAN_ID }) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [stringAttr("service.name", "fuzz-bot")] },
        scopeSpans: [
          {
            scope: { name: "fuzz", version: "1" },
            spans: [
              {
                ...ids,
                name: "chat",
                kind: 3,
                startTimeUnixNano: String(NOW_NS),
                endTimeUnixNano: String(NOW_NS + 5_000_000n),
                status: { code: 0 },
                attributes: [
                  stringAttr("gen_ai.operation.name", "chat"),
                  stringAttr("gen_ai.request.model", "claude-sonnet-4-5"),
                  intAttr("gen_ai.usage.input_tokens", 1300),
                  intAttr("gen_ai.usage.cache_read.input_tokens", 1000),
                  { key: "gen_ai.usage.cost", value: { doubleValue: 0.01 } },
                  { key: "flags", value: { arrayValue: { values: [{ boolValue: true }, { kvlistValue: { values: [stringAttr("a", "b")] } }] } } },
                  ...extraAttributes,
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

function logJson() {
  return {
    resourceLogs: [
      {
        resource: { attributes: [stringAttr("service.name", "claude-code")] },
        scopeLogs: [
          {
            scope: { name: "com.anthropic.claude_code.events" },
            logRecords: [
              {
                timeUnixNano: String(NOW_NS),
                observedTimeUnixNano: String(NOW_NS),
                body: { stringValue: "claude_code.api_request" },
                attributes: [
                  stringAttr("session.id", "fuzz-session"),
                  intAttr("event.sequence", 1),
                  stringAttr("model", "claude-sonnet-4-5"),
                  stringAttr("input_tokens", "12"),
                  stringAttr("cost_usd", "0.5"),
                  stringAttr("request_id", "req_fuzz"),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

function metricJson() {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [stringAttr("service.name", "claude-code")] },
        scopeMetrics: [
          {
            scope: { name: "com.anthropic.claude_code" },
            metrics: [
              {
                name: "claude_code.cost.usage",
                unit: "USD",
                sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: String(NOW_NS), asDouble: 0.5, attributes: [stringAttr("model", "m")] }] },
              },
              { name: "claude_code.session.count", gauge: { dataPoints: [{ timeUnixNano: String(NOW_NS), asInt: "1" }] } },
            ],
          },
        ],
      },
    ],
  };
}

function batchJson() {
  return {
    records: [
      { kind: "execution", id: "fz-run", model: "claude-sonnet-4-5", conclusion: "success", repo: "fz/repo", inputTokens: 5, attributes: { pr: 1, nested: { a: [1, 2] } }, createdAt: NOW },
      { kind: "toolCall", id: "fz-tool", toolName: "t", outcome: "ok", durationMs: 1, createdAt: "2026-11-22T10:00:00Z" },
      { kind: "rateLimitEvent", id: "fz-limit", resource: "r", degradation: "partial", deliveryId: "fz-d", eventType: "push" },
      { kind: "sessionStart", id: "fz-session", source: "mcp", client: { name: "c", version: "1" } },
      { kind: "sessionEnd", id: "fz-session" },
      { kind: "cacheEvent", id: "fz-cache", cache: "c", outcome: "miss" },
    ],
  };
}

const VALID_JSON: Record<Route, () => unknown> = { "/v1/batch": batchJson, "/v1/traces": () => spanJson(), "/v1/logs": logJson, "/v1/metrics": metricJson };

const anyString = (value: string) => ({ value: { case: "stringValue" as const, value } });
const keyValue = (key: string, value: string) => ({ key, value: anyString(value) });

function spanProtobuf(init: { traceId?: Uint8Array; attributes?: { key: string; value: ReturnType<typeof anyString> }[] } = {}): Uint8Array {
  return encode(ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        resource: { attributes: [keyValue("service.name", "fuzz-bot")] },
        scopeSpans: [
          {
            scope: { name: "fuzz" },
            spans: [
              {
                traceId: init.traceId ?? hexBytes(TRACE_ID),
                spanId: hexBytes("aaaabbbbccccdddd"),
                name: "chat",
                startTimeUnixNano: NOW_NS,
                endTimeUnixNano: NOW_NS + 7_000_000n,
                attributes: [
                  keyValue("gen_ai.operation.name", "chat"),
                  keyValue("gen_ai.request.model", "claude-sonnet-4-5"),
                  { key: "gen_ai.usage.input_tokens", value: { value: { case: "intValue", value: 42n } } },
                  ...(init.attributes ?? []),
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

function logProtobuf(): Uint8Array {
  return encode(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: { attributes: [keyValue("service.name", "claude-code")] },
        scopeLogs: [
          {
            scope: { name: "com.anthropic.claude_code.events" },
            logRecords: [
              {
                timeUnixNano: NOW_NS,
                body: anyString("claude_code.tool_result"),
                attributes: [keyValue("session.id", "fuzz-session"), keyValue("tool_name", "Read"), keyValue("success", "true"), keyValue("tool_use_id", "toolu_fuzz")],
              },
            ],
          },
        ],
      },
    ],
  });
}

function metricProtobuf(): Uint8Array {
  return encode(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              { name: "m", data: { case: "sum", value: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: NOW_NS, value: { case: "asDouble", value: 1.5 } }] } } },
            ],
          },
        ],
      },
    ],
  });
}

function encode<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

const VALID_PROTOBUF: Record<OtlpRoute, () => Uint8Array> = { "/v1/traces": () => spanProtobuf(), "/v1/logs": logProtobuf, "/v1/metrics": metricProtobuf };

function validBody(route: Route, type: string): Uint8Array {
  return type === "application/x-protobuf" ? VALID_PROTOBUF[route as OtlpRoute]() : new TextEncoder().encode(JSON.stringify(VALID_JSON[route]()));
}

// ---------------------------------------------------------------------------------------------
// Breaking them.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values of every JSON type, and strings that are hard on whatever reads them. */
const WRONG_VALUES: Json[] = [
  ...[null, true, 0, -1, 1.5, 1e308, -1e-308, 2 ** 64],
  ...["", "x", "-5", "1e999", "NaN", "\u0000", "\ud800", "\udfff\ud800", "🦜".repeat(3)],
  ...[[], [null], {}, { "": null }, { __proto__: 1 } as Json],
];

/** Every path into a JSON value (the root is []). */
function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(value)) value.forEach((child, i) => out.push(...paths(child, [...at, i])));
  else if (value !== null && typeof value === "object") for (const [key, child] of Object.entries(value)) out.push(...paths(child, [...at, key]));
  return out;
}

function replaced(value: Json, path: (string | number)[], by: Json): Json {
  if (path.length === 0) return by;
  const copy = structuredClone(value) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  node[path.at(-1)!] = by;
  return copy as Json;
}

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** A random string from an alphabet that favours trouble: escapes, separators, broken UTF-8 as percent-escapes. */
function nastyText(random: () => number): string {
  const parts = ["a", "Z", "9", "%", "%25", "%00", "%ff", "%ED%A0%80", "%zz", "&", "=", "?", "#", "/", "..", "*", "\\", "'", '"', ",", "+", " ", "é", "🦜", "\u0000", "\ud800", "\t", "\n"];
  return Array.from({ length: 1 + Math.floor(random() * 24) }, () => pick(random, parts)).join("");
}

/** Text for a URL: what a URL cannot hold raw is percent-encoded (lone surrogates as U+FFFD); the percent-escapes in it stay as they are, broken or not. */
function inUrl(text: string): string {
  return text.replaceAll(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c.replace(/[\ud800-\udfff]/g, "\ufffd")));
}

/** A URL query from random keys (mostly the real ones) and nasty values. */
function nastyQuery(random: () => number): string {
  const keys = [
    ...["by", "since", "until", "tz", "sort", "limit", "exact", "repo", "model", "event", "tool", "server", "conclusion", "outcome", "session", "cursor"],
    ...["x", "", "__proto__", "constructor"],
  ];
  return Array.from({ length: Math.floor(random() * 8) }, () => `${encodeURIComponent(pick(random, keys))}=${inUrl(nastyText(random))}`).join("&");
}

/** Bytes of `[[[…` nested `depth` deep, closed or not. */
const deepJson = (depth: number, closed: boolean) => "[".repeat(depth) + (closed ? "]".repeat(depth) : "");

/**
 * An OTLP traces request whose one span has an attribute that is a key-value list nested
 * `depth` deep, encoded by hand: every nested message is its parent's last field, so each
 * level is a prefix (tag and length) and the sizes can be summed from the inside out.
 */
function deepProtobufSpan(depth: number): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    out.push(n);
    return out;
  };
  const field = (number: number) => (number << 3) | 2;
  const KEY = [field(1), 1, 107]; // key = "k"
  const prefixes: number[][] = [];
  let size = 3; // AnyValue { string_value = "x" }
  for (let i = 0; i < depth; i++) {
    // AnyValue { kvlist_value = KeyValueList { values = KeyValue { key = "k", value = <size bytes> } } }
    const keyValue = KEY.length + 1 + varint(size).length + size;
    const list = 1 + varint(keyValue).length + keyValue;
    prefixes.push([field(6), ...varint(list), field(1), ...varint(keyValue), ...KEY, field(2), ...varint(size)]);
    size = 1 + varint(list).length + list;
  }
  const anyValue = [...prefixes.reverse().flat(), field(1), 1, 120];
  const attribute = [...KEY, field(2), ...varint(anyValue.length), ...anyValue];
  const span = [field(1), 16, ...hexBytes(TRACE_ID), field(2), 8, ...hexBytes("1111222233334444"), field(9), ...varint(attribute.length), ...attribute];
  const scopeSpans = [field(2), ...varint(span.length), ...span];
  const resourceSpans = [field(2), ...varint(scopeSpans.length), ...scopeSpans];
  return Uint8Array.from([field(1), ...varint(resourceSpans.length), ...resourceSpans]);
}

// ---------------------------------------------------------------------------------------------

describe(`POST routes under fuzz (seed ${SEED})`, () => {
  for (const { route, type } of POST_TARGETS) {
    const json = type === "application/json";
    test(`${route} ${type}: random bytes, truncations and mutations are 400 or 200, never 500`, async () => {
      const random = rng(SEED ^ route.length ^ (json ? 1 : 2));
      const verdicts = new Verdicts();
      for (let i = 0; i < ROUNDS; i++) {
        const bytes = randomBytes(random, 1 + Math.floor(random() * 2048));
        verdicts.check(`random bytes #${i}`, await send(open, route, post(bytes, type)), json && !isJson(bytes) ? [400] : [200, 400]);
      }
      const valid = validBody(route, type);
      for (let i = 0; i < ROUNDS; i++) {
        const cut = Math.floor(random() * valid.length);
        // A prefix of JSON text that ends before its closing brace is never JSON.
        verdicts.check(`truncated at ${cut}`, await send(open, route, post(valid.subarray(0, cut), type)), json ? [400] : [200, 400]);
      }
      for (let i = 0; i < ROUNDS; i++) {
        const mutated = valid.slice();
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        verdicts.check(`bytes mutated #${i}`, await send(open, route, post(mutated, type)), [200, 400]);
      }
      expect(verdicts.wrong).toEqual([]);
      expect(verdicts.count).toBe(3 * ROUNDS);
    });
  }

  for (const route of ["/v1/batch", ...OTLP_ROUTES] as const) {
    test(`${route} JSON: the wrong type at every level is 400 (the skeleton) or 200 (an item), and the answer still has its shape`, async () => {
      const random = rng(SEED + route.length);
      const valid = VALID_JSON[route]() as Json;
      const verdicts = new Verdicts();
      for (const path of paths(valid)) {
        // Three wrong values per path, drawn from the list: every level gets every kind eventually.
        for (let i = 0; i < 3; i++) {
          const value = pick(random, WRONG_VALUES);
          const mutated = replaced(valid, path, value);
          const outcome = await send(open, route, post(JSON.stringify(mutated), "application/json"));
          const label = `${path.join(".") || "(root)"} = ${JSON.stringify(value)}`;
          verdicts.check(label, outcome, [200, 400]);
          if (outcome.status === 200) {
            const answer = JSON.parse(new TextDecoder().decode(outcome.body)) as Record<string, unknown>;
            const sent = (mutated as { records?: unknown[] }).records?.length;
            if (route === "/v1/batch") verdicts.check(`${label} (one result per record)`, { ...outcome, status: (answer.results as unknown[]).length === sent ? 200 : 0 }, [200]);
            else verdicts.check(`${label} (an Export*ServiceResponse)`, { ...outcome, status: typeof answer === "object" && answer !== null && !Array.isArray(answer) ? 200 : 0 }, [200]);
          }
        }
      }
      expect(verdicts.wrong).toEqual([]);
      expect(verdicts.count).toBeGreaterThan(60);
    });
  }
});

describe("POST routes: inputs with one right answer", () => {
  test("deep nesting: 100k unclosed or closed brackets are 400 on every JSON route; nested protobuf past the recursion limit is 400", async () => {
    const verdicts = new Verdicts();
    for (const route of ["/v1/batch", ...OTLP_ROUTES]) {
      verdicts.check(`${route} unclosed`, await send(open, route, post(deepJson(100_000, false), "application/json")), [400]);
      verdicts.check(`${route} closed`, await send(open, route, post(deepJson(100_000, true), "application/json")), [400]);
      verdicts.check(`${route} objects`, await send(open, route, post('{"a":'.repeat(100_000), "application/json")), [400]);
    }
    // The same message 3 deep is a valid request: the 400 is the depth, not the encoding.
    verdicts.check("traces protobuf 3 deep", await send(open, "/v1/traces", post(deepProtobufSpan(3), "application/x-protobuf")), [200]);
    verdicts.check("traces protobuf 10k deep", await send(open, "/v1/traces", post(deepProtobufSpan(10_000), "application/x-protobuf")), [400]);
    expect(verdicts.wrong).toEqual([]);
  });

  test("10k attributes: a span is still mapped (JSON and protobuf); a record with 10k attribute keys is answered per item", async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => stringAttr(`attr.${i}`, `v${i}`));
    const json = await send(open, "/v1/traces", post(JSON.stringify(spanJson(many, { traceId: TRACE_ID, spanId: "0000000000abcdef" })), "application/json"));
    expect(json.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(json.body))).toEqual({});
    const protobuf = await send(open, "/v1/traces", post(spanProtobuf({ attributes: many.map((a) => keyValue(a.key, a.value.stringValue)) }), "application/x-protobuf"));
    expect(protobuf.status).toBe(200);
    expect(protobuf.type).toBe("application/x-protobuf");
    expect(countRows(store, "executions")).toBeGreaterThan(2);
    expect(queryRows(store, `SELECT attributes FROM executions WHERE id = 'otlp:${TRACE_ID}:0000000000abcdef'`)).toHaveLength(1);

    const attributes = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    const batch = await send(open, "/v1/batch", post(JSON.stringify({ records: [{ kind: "execution", id: "fz-many", model: "m", conclusion: "success", attributes }] }), "application/json"));
    expect(batch.status).toBe(200);
    const answer = JSON.parse(new TextDecoder().decode(batch.body)) as { results: { status: string; field?: string }[] };
    expect(answer.results).toHaveLength(1);
    expect(["accepted", "invalid"]).toContain(answer.results[0]!.status);
  });

  test("huge strings (a 2 MB id) are refused item by item, named, never quoted", async () => {
    const huge = "i".repeat(2 * 1024 * 1024);
    const records = [
      { kind: "execution", id: huge, model: "m", conclusion: "success" },
      { kind: "toolCall", id: "fz-ok", toolName: huge, outcome: "ok" },
    ];
    const batch = await send(open, "/v1/batch", post(JSON.stringify({ records }), "application/json"));
    expect(batch.status).toBe(200);
    const answer = JSON.parse(new TextDecoder().decode(batch.body)) as { results: { status: string; field?: string }[] };
    expect(answer.results.map((r) => [r.status, r.field])).toEqual([
      ["invalid", "id"],
      ["invalid", "toolName"],
    ]);
    expect(batch.body.byteLength).toBeLessThan(2000);

    const spans = await send(open, "/v1/traces", post(JSON.stringify(spanJson([], { traceId: huge, spanId: SPAN_ID })), "application/json"));
    expect(spans.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(spans.body))).toMatchObject({ partialSuccess: { rejectedSpans: "1" } });
    expect(spans.body.byteLength).toBeLessThan(2000);

    const protobuf = await send(open, "/v1/traces", post(spanProtobuf({ traceId: new Uint8Array(2 * 1024 * 1024).fill(7) }), "application/x-protobuf"));
    expect(protobuf.status).toBe(200);
    expect(protobuf.body.byteLength).toBeLessThan(2000);
    expect(protobuf.body.byteLength).toBeGreaterThan(0); // a partial success, not the empty answer

    const key = await send(open, "/v1/logs", post(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [stringAttr(huge, huge)] }] }] }] }), "application/json"));
    expect(key.status).toBe(200);
  });

  test("text: lone surrogates, null bytes and odd unicode in every string are answered; bytes that are not UTF-8 are 400", async () => {
    const verdicts = new Verdicts();
    const strange = ["\ud800", "\udc00x\ud800", "a\u0000b", "\u0000", "\uffff\ufffe", "🦜\u200d🦜", "\u202etxet", "é".normalize("NFD"), "x".repeat(129)];
    for (const route of ["/v1/batch", ...OTLP_ROUTES] as const) {
      const valid = VALID_JSON[route]() as Json;
      for (const path of paths(valid)) {
        for (const text of strange) {
          if (typeof path.at(-1) === "number" && route === "/v1/batch" && path.length === 2) continue; // a record itself, covered by the wrong-type fuzz
          verdicts.check(`${route} ${path.join(".")} = ${JSON.stringify(text)}`, await send(open, route, post(JSON.stringify(replaced(valid, path, text)), "application/json")), [200, 400]);
        }
      }
      for (const bytes of [[0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
        const valid = validBody(route, "application/json");
        const broken = new Uint8Array([...valid.subarray(0, 10), ...bytes, ...valid.subarray(10)]);
        verdicts.check(`${route} raw ${bytes.join(",")}`, await send(open, route, post(broken, "application/json")), [400]);
      }
    }
    expect(verdicts.wrong).toEqual([]);
    expect(verdicts.count).toBeGreaterThan(500);
  });

  test("wrong content types are 415 on every ingest route", async () => {
    const verdicts = new Verdicts();
    const types = [
      ...[null, "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
      ...["application/jsonx", "application/grpc", "application/json-seq", "*/*", "ßad/type"],
    ];
    for (const route of ["/v1/batch", ...OTLP_ROUTES]) {
      for (const type of types) verdicts.check(`${route} ${type}`, await send(open, route, post('{"records":[]}', type)), [415]);
    }
    verdicts.check("/v1/batch protobuf", await send(open, "/v1/batch", post(new Uint8Array([10, 0]), "application/x-protobuf")), [415]);
    expect(verdicts.wrong).toEqual([]);
  });

  test("a gzip bomb (64 MiB in ~64 KiB) is 413 on every route, and is not inflated past the limit", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32));
    expect(bomb.byteLength).toBeLessThan(128 * 1024);
    for (const { route, type } of POST_TARGETS) {
      // Handed over 1 KiB at a time, on demand: how much the server pulled is how far it inflated.
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= bomb.byteLength) return controller.close();
          const chunk = bomb.subarray(pulled, pulled + 1024);
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      const outcome = await send(small, route, { ...post(body, type, { "content-encoding": "gzip" }), duplex: "half" } as RequestInit);
      expect(`${route} ${type} ${outcome.status}`).toBe(`${route} ${type} 413`);
      // 64 KiB of output needs ~64 bytes of this input; far less than all of it was read.
      expect(pulled).toBeLessThan(bomb.byteLength / 4);
      // And as one buffer, whole: refused as well.
      expect((await send(small, route, post(bomb, type, { "content-encoding": "gzip" }))).status).toBe(413);
    }
  });

  test("content-encoding lies: says gzip or deflate and is not, 400; an unknown encoding, 415", async () => {
    const verdicts = new Verdicts();
    for (const { route, type } of POST_TARGETS) {
      const valid = validBody(route, type);
      const gz = gzipSync(valid);
      verdicts.check(`${route} ${type} gzip plain`, await send(open, route, post(valid, type, { "content-encoding": "gzip" })), [400]);
      verdicts.check(`${route} ${type} deflate plain`, await send(open, route, post(valid, type, { "content-encoding": "deflate" })), [400]);
      verdicts.check(`${route} ${type} gzip truncated`, await send(open, route, post(gz.subarray(0, gz.length >> 1), type, { "content-encoding": "gzip" })), [400]);
      verdicts.check(`${route} ${type} gzip, empty`, await send(open, route, post(new Uint8Array(0), type, { "content-encoding": "gzip" })), [400]);
      verdicts.check(`${route} ${type} gzip as deflate`, await send(open, route, post(gz, type, { "content-encoding": "deflate" })), [400]);
      for (const encoding of ["br", "zstd", "compress", "gzip, gzip", "gzip;q=1", "\u00ff"]) {
        verdicts.check(`${route} ${type} ${encoding}`, await send(open, route, post(gz, type, { "content-encoding": encoding })), [415]);
      }
      // Said nothing, is gzip: the bytes are not the format.
      verdicts.check(`${route} ${type} unlabelled gzip`, await send(open, route, post(gz, type)), type === "application/json" ? [400] : [200, 400]);
      // Told the truth: accepted.
      verdicts.check(`${route} ${type} gzip`, await send(open, route, post(gz, type, { "content-encoding": "gzip" })), [200]);
    }
    expect(verdicts.wrong).toEqual([]);
  });
});

describe(`read API under fuzz (seed ${SEED})`, () => {
  const READ_ROUTES = ["/api/v1/reports/usage", "/api/v1/reports/tools", "/api/v1/reports/degradations", "/api/v1/runs", "/api/v1/tool-calls"] as const;
  /** The listings' parameters; their glob filters first. */
  const LISTING_PARAMETERS: Record<string, string[]> = {
    "/api/v1/runs": ["repo", "model", "event", "conclusion", "since", "until", "tz", "session", "cursor", "limit"],
    "/api/v1/tool-calls": ["tool", "server", "outcome", "since", "until", "tz", "session", "cursor", "limit"],
  };

  test("random query strings are 200 or 400, never 500", async () => {
    const random = rng(SEED ^ 0x5eed);
    const verdicts = new Verdicts();
    for (const route of READ_ROUTES) {
      for (let i = 0; i < ROUNDS * 2; i++) {
        const query = nastyQuery(random);
        verdicts.check(`${route}?${query}`, await send(open, `${route}?${query}`), [200, 400]);
      }
    }
    expect(verdicts.wrong).toEqual([]);
  });

  test("every parameter repeated 1000 times is 200 or 400, never 500", async () => {
    const verdicts = new Verdicts();
    const values: Record<string, string> = {
      ...{ by: "repo", since: "7d", until: "2030-01-01", tz: "UTC", sort: "cost", limit: "5", exact: "true", session: "s", cursor: "x" },
      ...{ repo: "acme/*", model: "claude-*", event: "push", tool: "search", server: "github", conclusion: "success", outcome: "ok" },
    };
    for (const route of READ_ROUTES) {
      for (const [key, value] of Object.entries(values)) {
        const query = Array.from({ length: 1000 }, (_, i) => `${key}=${encodeURIComponent(i % 2 === 0 ? value : `${value}${i}`)}`).join("&");
        verdicts.check(`${route} ${key}×1000`, await send(open, `${route}?${query}`), [200, 400]);
      }
    }
    expect(verdicts.wrong).toEqual([]);
  });

  test("the filters of runs and tool calls take at most 100 patterns of 1024 characters, as reports do: more is 400, naming the option", async () => {
    for (const [route, parameters] of Object.entries(LISTING_PARAMETERS)) {
      for (const key of parameters.slice(0, route === "/api/v1/runs" ? 4 : 3)) {
        const many = await send(open, `${route}?${Array.from({ length: 1000 }, (_, i) => `${key}=p${i}`).join("&")}`);
        expect(`${route} ${key} ${many.status} ${new TextDecoder().decode(many.body)}`).toBe(`${route} ${key} 400 {"error":{"message":"at most 100 ${key} patterns"}}`);
        const long = await send(open, `${route}?${key}=${"q".repeat(60_000)}`);
        expect(`${route} ${key} ${long.status}`).toBe(`${route} ${key} 400`);
        expect(new TextDecoder().decode(long.body)).toContain(`${key} value is too long`);
      }
    }
    const hundred = await send(open, `/api/v1/runs?${Array.from({ length: 100 }, (_, i) => `repo=p${i}`).join("&")}&repo=acme/*`);
    expect(hundred.status).toBe(400);
    const fine = await send(open, `/api/v1/runs?${Array.from({ length: 99 }, (_, i) => `repo=p${i}`).join("&")}&repo=acme/*`);
    expect(fine.status).toBe(200);
    expect((JSON.parse(new TextDecoder().decode(fine.body)) as { runs: { id: string }[] }).runs.map((r) => r.id)).toContain("base-run-1");
    const calls = await send(open, `/api/v1/tool-calls?${Array.from({ length: 99 }, (_, i) => `tool=p${i}`).join("&")}&tool=sea*`);
    expect(calls.status).toBe(200);
    expect((JSON.parse(new TextDecoder().decode(calls.body)) as { toolCalls: { id: string }[] }).toolCalls.map((r) => r.id)).toContain("base-tool-1");
  });

  test("ids in the path: random, percent-broken, unicode are 404 or 400 (or 200: the fuzz above stores odd ids); 10k characters are 400", async () => {
    const random = rng(SEED ^ 0x1d);
    const verdicts = new Verdicts();
    for (const route of ["/api/v1/runs/", "/api/v1/sessions/"]) {
      for (let i = 0; i < ROUNDS * 2; i++) {
        const id = inUrl(nastyText(random)).replaceAll(/[?#]/g, "%3F");
        verdicts.check(`${route}${id}`, await send(open, `${route}${id}`), [200, 400, 404]);
      }
      for (const id of ["%", "%E0%A4%A", "%00", "%FF%FE", "%ED%A0%80", "..%2F..%2Fetc", "base-run-1%00", "%2e%2e"]) verdicts.check(`${route}${id}`, await send(open, `${route}${id}`), [200, 400, 404]);
      verdicts.check(`${route} 10k`, await send(open, `${route}${"x".repeat(10_000)}`), [400]);
      verdicts.check(`${route} 2 MB`, await send(open, `${route}${"x".repeat(2 * 1024 * 1024)}`), [400]);
    }
    expect(verdicts.wrong).toEqual([]);
    expect((await send(open, "/api/v1/runs/base-run-1")).status).toBe(200);
    expect((await send(open, "/api/v1/sessions/base-session")).status).toBe(200);
  });

  test("a 2 MB value of any parameter the route reads is 400", async () => {
    const verdicts = new Verdicts();
    const huge = "y".repeat(2 * 1024 * 1024);
    for (const route of READ_ROUTES) {
      // A report reads only its own filters (usage has no tool filter): the others are not its parameters.
      const kind = route.split("/").at(-1) as keyof typeof REPORT_OPTIONS;
      const keys = LISTING_PARAMETERS[route] ?? ["by", "since", "until", "tz", "sort", "limit", "exact", ...Object.keys(REPORT_OPTIONS[kind].filters)];
      for (const key of keys) verdicts.check(`${route} ${key}`, await send(open, `${route}?${key}=${huge}`), [400]);
    }
    expect(verdicts.wrong).toEqual([]);
    expect(verdicts.count).toBeGreaterThan(3 * 8 + 2 * 9);
  });
});

describe("tokens", () => {
  test("every ingest and read route is 401 without the right bearer token (400 for a malformed header), and takes nothing", async () => {
    const before = Object.fromEntries(RAW_TABLES.map((table) => [table, countRows(store, table)]));
    const verdicts = new Verdicts();
    // RFC 6750: no credentials or a wrong token is 401 (invalid_token); a header that is not `Bearer <token>` is 400 (invalid_request).
    const cases: [Record<string, string>, number][] = [
      [{}, 401],
      [{ authorization: "" }, 401],
      [{ "x-api-key": INGEST_TOKEN }, 401],
      [{ authorization: `Bearer ${INGEST_TOKEN}x` }, 401],
      [{ authorization: `Bearer ${INGEST_TOKEN.slice(0, -1)}` }, 401],
      [{ authorization: `Bearer ${INGEST_TOKEN.toUpperCase()}` }, 401],
      [{ authorization: `Bearer ${"z".repeat(10_000)}` }, 401],
      [{ authorization: "Bearer" }, 400],
      [{ authorization: "Bearer " }, 400],
      [{ authorization: `Basic ${btoa(`user:${INGEST_TOKEN}`)}` }, 400],
      [{ authorization: `Token ${INGEST_TOKEN}` }, 400],
      [{ authorization: `Bearer ${INGEST_TOKEN} ${INGEST_TOKEN}` }, 400],
      [{ authorization: `Bearer "${INGEST_TOKEN}"` }, 400],
    ];
    for (const [headers, status] of cases) {
      const label = JSON.stringify(headers).slice(0, 60);
      for (const { route, type } of POST_TARGETS) verdicts.check(`${route} ${type} ${label}`, await send(guarded, route, post(validBody(route, type), type, headers)), [status]);
      const readPaths = ["/api/v1/reports/usage", "/api/v1/reports/tools", "/api/v1/reports/degradations", "/api/v1/runs", "/api/v1/tool-calls"];
      for (const path of [...readPaths, "/api/v1/runs/base-run-1", "/api/v1/sessions/base-session", "/metrics"]) {
        verdicts.check(`${path} ${label}`, await send(guarded, path, { headers }), [status]);
      }
    }
    // Each token opens only its own side.
    for (const { route, type } of POST_TARGETS) verdicts.check(`${route} read token`, await send(guarded, route, post(validBody(route, type), type, { authorization: `Bearer ${READ_TOKEN}` })), [401]);
    verdicts.check("read with the ingest token", await send(guarded, "/api/v1/runs", { headers: { authorization: `Bearer ${INGEST_TOKEN}` } }), [401]);
    expect(verdicts.wrong).toEqual([]);
    expect(Object.fromEntries(RAW_TABLES.map((table) => [table, countRows(store, table)]))).toEqual(before);
    // The right ones work.
    expect((await send(guarded, "/api/v1/runs/base-run-1", { headers: { authorization: `Bearer ${READ_TOKEN}` } })).status).toBe(200);
    expect((await send(guarded, "/v1/batch", post(validBody("/v1/batch", "application/json"), "application/json", { authorization: `Bearer ${INGEST_TOKEN}` }))).status).toBe(200);
  });
});

describe("afterwards", () => {
  test("no 500 was logged, the stored rows are unchanged, the file is intact, and a valid batch still ingests", async () => {
    expect(loggedErrors).toEqual([]);
    expect(snapshot()).toEqual(baseline);
    expect(queryRows(store, "PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
    const response = await postJson(open, "/v1/batch", {
      records: [
        { kind: "execution", id: "after-1", model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/after", inputTokens: 7, createdAt: NOW },
        { kind: "toolCall", id: "after-2", toolName: "read", outcome: "ok", createdAt: NOW },
      ],
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(2);
    expect(queryRows(store, "SELECT repo, input_tokens, cost_source FROM executions WHERE id = 'after-1'")).toEqual([{ repo: "acme/after", input_tokens: 7, cost_source: "computed" }]);
    const report = (await (await open.app.request("/api/v1/reports/usage?by=repo&repo=acme/*")).json()) as { rows: { group: { repo: string }; runs: number }[] };
    expect(report.rows.map((r) => [r.group.repo, r.runs]).sort()).toEqual([
      ["acme/after", 1],
      ["acme/api", 1],
      ["acme/web", 1],
    ]);
  });
});

describe("startServer off loopback", () => {
  test("without both tokens it throws and does not listen", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("probe") });
    const port = probe.port!;
    await probe.stop(true);
    for (const [host, tokens] of [
      ["0.0.0.0", {}],
      ["0.0.0.0", { ingestToken: INGEST_TOKEN }],
      ["0.0.0.0", { readToken: READ_TOKEN }],
      ["::", { ingestToken: INGEST_TOKEN, readToken: "" }],
      ["192.168.0.10", {}],
    ] as const) {
      await expect(startServer({ store, host, port, ...tokens })).rejects.toThrow(/refusing to listen/);
    }
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
