/**
 * Real OpenTelemetry producers against a real `tally serve` on loopback: the SDK's tracer and
 * logger providers with the published OTLP/HTTP exporters (JSON and protobuf, with and without
 * gzip) send GenAI, OpenInference, MCP and Claude Code-shaped telemetry, and the rows that land
 * in SQLite are checked field by field. A small proxy in front of the server makes the
 * exporters retry, to show a retried export is stored once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { fromBinary } from "@bufbuild/protobuf";
import { context, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { AnyValueMap } from "@opentelemetry/api-logs";
import { OTLPLogExporter as JsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtobufLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { CompressionAlgorithm, OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from "@opentelemetry/otlp-exporter-base/node-http";
import { JsonMetricsSerializer, MetricsExporterMetricsHelper } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from "@opentelemetry/sdk-trace-base";
import { join } from "node:path";
import { ExportLogsServiceResponseSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { ExportTraceServiceResponseSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { startServer, type RunningServer } from "../../src/server/start.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { countRows, queryRows } from "../support/sql.ts";
import { tempDir } from "../support/temp-dir.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(): Promise<{ store: SqliteStore; running: RunningServer }> {
  const store = openSqliteStore({ path: join(tempDir(), "tally.db"), retentionDays: 0 });
  const running = await startServer({ store, port: 0 });
  cleanup.push(
    () => store.close(),
    () => running.close(),
  );
  return { store, running };
}

type Encoding = "json" | "protobuf";
/** Every way an OTLP/HTTP exporter can send: both encodings, with and without gzip. */
const VARIANTS: { encoding: Encoding; gzip: boolean }[] = [
  { encoding: "json", gzip: false },
  { encoding: "json", gzip: true },
  { encoding: "protobuf", gzip: false },
  { encoding: "protobuf", gzip: true },
];
const variantName = (v: { encoding: Encoding; gzip: boolean }) => `${v.encoding}${v.gzip ? " + gzip" : ""}`;

function exporterConfig(url: string, gzip: boolean) {
  // One attempt's deadline bounds the retries too; short, so a broken test fails fast.
  return { url, compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE, timeoutMillis: 5_000 };
}

/** 2026-01-05 12:00 UTC: every span starts at an offset from it. */
const T0 = Date.UTC(2026, 0, 5, 12);
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = (n: number) => n.toString(16).padStart(16, "0");
const spanRecordId = (n: number) => `otlp:${TRACE_ID}:${spanId(n)}`;

/** One trace id and numbered span ids: the same calls make the same spans, so record ids can be written down. */
function sequentialIds(): IdGenerator {
  let next = 0;
  return { generateTraceId: () => TRACE_ID, generateSpanId: () => spanId(++next) };
}

interface SpanSpec {
  name: string;
  attributes: Attributes;
  startMs: number;
  durationMs: number;
  error?: boolean;
  /** Index of the parent among the specs before it. */
  parent?: number;
}

/** Records the spans with a real tracer provider whose BatchSpanProcessor exports through `exporter`, then flushes. */
async function exportSpans(exporter: JsonTraceExporter | ProtobufTraceExporter, specs: SpanSpec[]): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "review-bot" }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
    idGenerator: sequentialIds(),
  });
  const tracer = provider.getTracer("tally-e2e", "1.0.0");
  const started: Span[] = [];
  for (const spec of specs) {
    const parent = spec.parent === undefined ? context.active() : trace.setSpan(context.active(), started[spec.parent]!);
    const span = tracer.startSpan(spec.name, { startTime: T0 + spec.startMs, attributes: spec.attributes }, parent);
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: "failed" });
    started.push(span);
  }
  specs.forEach((spec, i) => started[i]!.end(T0 + spec.startMs + spec.durationMs));
  await provider.forceFlush();
  await provider.shutdown();
}

function traceExporter(encoding: Encoding, url: string, gzip = false) {
  const config = exporterConfig(`${url}/v1/traces`, gzip);
  return encoding === "json" ? new JsonTraceExporter(config) : new ProtobufTraceExporter(config);
}

function logExporter(encoding: Encoding, url: string, gzip = false) {
  const config = exporterConfig(`${url}/v1/logs`, gzip);
  return encoding === "json" ? new JsonLogExporter(config) : new ProtobufLogExporter(config);
}

const PROMPT = "Review this diff: SECRET-PROMPT-TEXT";

/** An agent run as a GenAI-instrumented app reports it: the agent span and what happened under it. */
const AGENT_TRACE: SpanSpec[] = [
  {
    name: "invoke_agent reviewer",
    startMs: 0,
    durationMs: 10_000,
    // Its tokens are its children's: storing it would count them twice.
    attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "reviewer", "gen_ai.usage.input_tokens": 99_999, "gen_ai.request.model": "claude-sonnet-4-5" },
  },
  {
    name: "chat claude-sonnet-4-5",
    parent: 0,
    startMs: 100,
    durationMs: 1234,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-sonnet-4-5",
      "gen_ai.response.model": "claude-sonnet-4-5-20250929",
      // OpenTelemetry counts cache reads and writes in the input: 100 fresh + 1000 + 200.
      "gen_ai.usage.input_tokens": 1300,
      "gen_ai.usage.cache_read.input_tokens": 1000,
      "gen_ai.usage.cache_creation.input_tokens": 200,
      "gen_ai.usage.output_tokens": 50,
      "gen_ai.usage.cost": 0.0123,
      "gen_ai.conversation.id": "conv-1",
      "gen_ai.agent.name": "reviewer",
      "gen_ai.input.messages": PROMPT,
    },
  },
  {
    name: "chat claude-sonnet-4-5",
    parent: 0,
    startMs: 2000,
    durationMs: 800,
    error: true,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-sonnet-4-5",
      "gen_ai.usage.input_tokens": 2500,
      "gen_ai.usage.cache_read.input_tokens": 2000,
      "gen_ai.usage.output_tokens": 20,
      "gen_ai.conversation.id": "conv-1",
      "error.type": "overloaded_error",
    },
  },
  {
    name: "ChatOpenAI",
    parent: 0,
    startMs: 3000,
    durationMs: 2000,
    attributes: {
      "openinference.span.kind": "LLM",
      "llm.provider": "anthropic",
      "llm.model_name": "claude-haiku-4-5",
      "llm.token_count.prompt": 900,
      "llm.token_count.prompt_details.cache_read": 100,
      "llm.token_count.completion": 30,
      "session.id": "oi-session",
      "input.value": PROMPT,
    },
  },
  {
    name: "tools/call search_issues",
    parent: 0,
    startMs: 5500,
    durationMs: 45,
    error: true,
    attributes: { "mcp.method.name": "tools/call", "gen_ai.tool.name": "search_issues", "mcp.server.name": "github", "mcp.session.id": "mcp-1", "error.type": "tool_error" },
  },
  {
    name: "execute_tool read_file",
    parent: 0,
    startMs: 6000,
    durationMs: 7,
    attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file", "gen_ai.tool.call.id": "call-7" },
  },
];

const SESSION = "0b6c9f2e-1111-4222-8333-944445555666";
const AT = Date.UTC(2026, 0, 5, 12, 30);

interface LogSpec {
  body?: string;
  attributes: AnyValueMap;
  timeMs: number;
}

/** Claude Code's events as its docs list them (numbers as strings, as it sends them, and as numbers). */
const CLAUDE_CODE_EVENTS: LogSpec[] = [
  {
    body: "claude_code.api_request",
    timeMs: AT,
    attributes: {
      "event.name": "api_request",
      "session.id": SESSION,
      "event.sequence": 1,
      "prompt.id": "p-1",
      model: "claude-sonnet-4-5-20250929",
      input_tokens: "4",
      output_tokens: "321",
      cache_read_tokens: "15000",
      cache_creation_tokens: "1200",
      cost_usd: "0.0123",
      duration_ms: "5120",
      request_id: "req_011CXYZ",
    },
  },
  {
    timeMs: AT + 6000,
    attributes: {
      // The prefixed name alone says what it is.
      "event.name": "claude_code.api_request",
      "session.id": SESSION,
      "event.sequence": 2,
      model: "claude-sonnet-4-5-20250929",
      input_tokens: 10,
      output_tokens: 40,
      cache_read_tokens: 500,
      cache_creation_tokens: 0,
      duration_ms: 900,
    },
  },
  {
    body: "claude_code.tool_result",
    timeMs: AT + 7000,
    attributes: {
      "event.name": "tool_result",
      "session.id": SESSION,
      "event.sequence": 3,
      tool_name: "mcp__github__search_issues",
      success: "false",
      error_type: "permission_denied",
      duration_ms: "45",
      tool_use_id: "toolu_01",
    },
  },
  {
    body: "claude_code.tool_result",
    timeMs: AT + 8000,
    attributes: { "event.name": "tool_result", "session.id": SESSION, "event.sequence": 4, tool_name: "Read", success: "true", duration_ms: "3", tool_use_id: "toolu_02" },
  },
  {
    body: "claude_code.api_error",
    timeMs: AT + 9000,
    attributes: {
      ...{ "event.name": "api_error", "session.id": SESSION, "event.sequence": 5, model: "claude-sonnet-4-5-20250929" },
      ...{ status_code: "429", attempt: "2", error: "rate_limit_error", duration_ms: "120" },
    },
  },
  // Not a rate limit, and not an event Tally keeps: nothing stored for these two.
  {
    body: "claude_code.api_error",
    timeMs: AT + 9500,
    attributes: { "event.name": "api_error", "session.id": SESSION, "event.sequence": 6, model: "claude-sonnet-4-5-20250929", status_code: "500", attempt: "1" },
  },
  { body: "claude_code.user_prompt", timeMs: AT + 9900, attributes: { "event.name": "user_prompt", "session.id": SESSION, "event.sequence": 7, prompt_length: "42" } },
];

/** Emits the records through a real LoggerProvider (Claude Code's resource and scope) whose processor exports through `exporter`. */
async function exportLogs(exporter: JsonLogExporter | ProtobufLogExporter, specs: LogSpec[]): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "claude-code", "service.version": "2.1.0" }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("com.anthropic.claude_code.events");
  for (const spec of specs) logger.emit({ ...(spec.body === undefined ? {} : { body: spec.body }), timestamp: spec.timeMs, attributes: spec.attributes });
  await provider.forceFlush();
  await provider.shutdown();
}

interface Exchange {
  path: string;
  contentType: string | null;
  contentEncoding: string | null;
  status: number;
  responseType: string | null;
  responseBody: Uint8Array<ArrayBuffer>;
}

/**
 * A proxy in front of the server that records every exchange. `refuse`: the first `failures`
 * requests get 503 with `Retry-After: 0` and never reach the server. `lose`: they reach the
 * server and are committed, but the exporter gets a 503 instead of the answer (a reply lost
 * on the way back), so its retry brings the same records again.
 */
function proxyTo(target: string, options: { failures?: number; mode?: "refuse" | "lose" } = {}) {
  const exchanges: Exchange[] = [];
  const failures = options.failures ?? 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.arrayBuffer();
      const exchange: Exchange = {
        path: new URL(request.url).pathname,
        contentType: request.headers.get("content-type"),
        contentEncoding: request.headers.get("content-encoding"),
        status: 0,
        responseType: null,
        responseBody: new Uint8Array(0),
      };
      exchanges.push(exchange);
      const failing = exchanges.length <= failures;
      if (!(failing && options.mode !== "lose")) {
        const headers: Record<string, string> = {};
        for (const name of ["content-type", "content-encoding"]) {
          const value = request.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        const answer = await fetch(`${target}${exchange.path}`, { method: "POST", headers, body });
        exchange.status = answer.status;
        exchange.responseType = answer.headers.get("content-type");
        exchange.responseBody = new Uint8Array(await answer.arrayBuffer());
        if (!failing) return new Response(exchange.responseBody, { status: answer.status, headers: exchange.responseType === null ? {} : { "content-type": exchange.responseType } });
      }
      exchange.status = 503;
      exchange.responseType = "application/json";
      return new Response('{"error":{"message":"busy"}}', { status: 503, headers: { "retry-after": "0", "content-type": "application/json" } });
    },
  });
  cleanup.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, exchanges };
}

const priced = createPricer();
/** What Tally charges for these tokens; the stored computed cost must be this. */
function computedCost(model: string, tokens: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number }, createdAt: number): number {
  const price = priced.price({ provider: "anthropic", model, createdAt, ...tokens });
  expect(price.costSource).toBe("computed");
  return price.costUsd;
}

const EXECUTION_COLUMNS =
  "id, created_at, repo, event_type, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, duration_ms, cost_usd, cost_source, conclusion, session_id, attributes";
const TOOL_CALL_COLUMNS = "id, created_at, session_id, server, tool_name, duration_ms, outcome, error_type, attributes";

function metricLine(text: string, prefix: string): number {
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length).trim());
}

describe("traces from the OpenTelemetry SDK and its OTLP/HTTP exporters", () => {
  for (const variant of VARIANTS) {
    test(`${variantName(variant)}: model calls become executions, tool spans tool calls, the agent span nothing`, async () => {
      const { store, running } = await serve();
      await exportSpans(traceExporter(variant.encoding, running.url, variant.gzip), AGENT_TRACE);

      const executions = queryRows(store, `SELECT ${EXECUTION_COLUMNS} FROM executions ORDER BY created_at`);
      const secondTokens = { inputTokens: 500, outputTokens: 20, cacheReadTokens: 2000, cacheCreationTokens: 0 };
      const openInferenceTokens = { inputTokens: 800, outputTokens: 30, cacheReadTokens: 100, cacheCreationTokens: 0 };
      expect(executions).toEqual([
        {
          id: spanRecordId(2),
          created_at: T0 + 100,
          repo: "review-bot",
          event_type: "chat",
          provider: "anthropic",
          model: "claude-sonnet-4-5-20250929",
          // 1300 reported, less 1000 read from and 200 written to the cache.
          input_tokens: 100,
          output_tokens: 50,
          cache_read_tokens: 1000,
          cache_creation_tokens: 200,
          duration_ms: 1234,
          cost_usd: 0.0123,
          cost_source: "reported",
          conclusion: "success",
          session_id: "conv-1",
          attributes: JSON.stringify({ trace_id: TRACE_ID, span_id: spanId(2), "service.name": "review-bot", "gen_ai.agent.name": "reviewer" }),
        },
        {
          id: spanRecordId(3),
          created_at: T0 + 2000,
          repo: "review-bot",
          event_type: "chat",
          provider: "anthropic",
          model: "claude-sonnet-4-5",
          input_tokens: 500,
          output_tokens: 20,
          cache_read_tokens: 2000,
          cache_creation_tokens: 0,
          duration_ms: 800,
          cost_usd: computedCost("claude-sonnet-4-5", secondTokens, T0 + 2000),
          cost_source: "computed",
          conclusion: "error",
          session_id: "conv-1",
          attributes: JSON.stringify({ trace_id: TRACE_ID, span_id: spanId(3), "service.name": "review-bot" }),
        },
        {
          id: spanRecordId(4),
          created_at: T0 + 3000,
          repo: "review-bot",
          event_type: "llm",
          provider: "anthropic",
          model: "claude-haiku-4-5",
          input_tokens: 800,
          output_tokens: 30,
          cache_read_tokens: 100,
          cache_creation_tokens: 0,
          duration_ms: 2000,
          cost_usd: computedCost("claude-haiku-4-5", openInferenceTokens, T0 + 3000),
          cost_source: "computed",
          conclusion: "success",
          session_id: "oi-session",
          attributes: JSON.stringify({ trace_id: TRACE_ID, span_id: spanId(4), "service.name": "review-bot" }),
        },
      ]);
      expect(executions[1]!.cost_usd as number).toBeGreaterThan(0);

      expect(queryRows(store, `SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls ORDER BY created_at`)).toEqual([
        {
          id: spanRecordId(5),
          created_at: T0 + 5500,
          session_id: "mcp-1",
          server: "github",
          tool_name: "search_issues",
          duration_ms: 45,
          outcome: "tool_error",
          error_type: "tool_error",
          attributes: JSON.stringify({ trace_id: TRACE_ID, span_id: spanId(5), "service.name": "review-bot" }),
        },
        {
          id: spanRecordId(6),
          created_at: T0 + 6000,
          session_id: null,
          server: "review-bot",
          tool_name: "read_file",
          duration_ms: 7,
          outcome: "ok",
          error_type: null,
          attributes: JSON.stringify({ trace_id: TRACE_ID, span_id: spanId(6), "service.name": "review-bot", "gen_ai.tool.call.id": "call-7" }),
        },
      ]);
      // The agent span (span 1) stored nothing anywhere, and no prompt text was kept.
      const everything = JSON.stringify([queryRows(store, "SELECT * FROM executions"), queryRows(store, "SELECT * FROM tool_calls")]);
      expect(everything).not.toContain(spanId(1));
      expect(everything).not.toContain("SECRET-PROMPT-TEXT");
      expect(countRows(store, "rate_limit_events")).toBe(0);
      expect(countRows(store, "sessions")).toBe(0);
    });
  }
});

describe("logs from the OpenTelemetry SDK shaped as Claude Code sends them", () => {
  for (const variant of VARIANTS) {
    test(`${variantName(variant)}: api_request → execution, tool_result → tool call, api_error 429 → rate-limit event`, async () => {
      const { store, running } = await serve();
      await exportLogs(logExporter(variant.encoding, running.url, variant.gzip), CLAUDE_CODE_EVENTS);

      const attributes = JSON.stringify({ "prompt.id": "p-1", "service.version": "2.1.0" });
      const plain = JSON.stringify({ "service.version": "2.1.0" });
      expect(queryRows(store, `SELECT ${EXECUTION_COLUMNS} FROM executions ORDER BY created_at`)).toEqual([
        {
          id: "claude-code:request:req_011CXYZ",
          created_at: AT,
          repo: "claude-code",
          event_type: "claude-code",
          provider: "anthropic",
          model: "claude-sonnet-4-5-20250929",
          // Claude Code's input already leaves the cache out: kept as sent.
          input_tokens: 4,
          output_tokens: 321,
          cache_read_tokens: 15000,
          cache_creation_tokens: 1200,
          duration_ms: 5120,
          cost_usd: 0.0123,
          cost_source: "reported",
          conclusion: "success",
          session_id: SESSION,
          attributes,
        },
        {
          id: `claude-code:event:${SESSION}:2`,
          created_at: AT + 6000,
          repo: "claude-code",
          event_type: "claude-code",
          provider: "anthropic",
          model: "claude-sonnet-4-5-20250929",
          input_tokens: 10,
          output_tokens: 40,
          cache_read_tokens: 500,
          cache_creation_tokens: 0,
          duration_ms: 900,
          cost_usd: computedCost("claude-sonnet-4-5-20250929", { inputTokens: 10, outputTokens: 40, cacheReadTokens: 500, cacheCreationTokens: 0 }, AT + 6000),
          cost_source: "computed",
          conclusion: "success",
          session_id: SESSION,
          attributes: plain,
        },
      ]);
      expect(queryRows(store, `SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls ORDER BY created_at`)).toEqual([
        {
          id: "claude-code:tool:toolu_01",
          created_at: AT + 7000,
          session_id: SESSION,
          server: "github",
          tool_name: "search_issues",
          duration_ms: 45,
          outcome: "tool_error",
          error_type: "permission_denied",
          attributes: plain,
        },
        { id: "claude-code:tool:toolu_02", created_at: AT + 8000, session_id: SESSION, server: "", tool_name: "Read", duration_ms: 3, outcome: "ok", error_type: null, attributes: plain },
      ]);
      expect(
        queryRows(store, 'SELECT id, created_at, delivery_id, event_type, repo, resource, retry_attempts, degradation, "limit", remaining, attributes FROM rate_limit_events'),
      ).toEqual([
        {
          id: `claude-code:event:${SESSION}:5`,
          created_at: AT + 9000,
          delivery_id: null,
          event_type: "claude-code",
          repo: "claude-code",
          resource: "anthropic-api",
          retry_attempts: 2,
          degradation: "retry",
          limit: null,
          remaining: null,
          attributes: JSON.stringify({ status_code: 429, model: "claude-sonnet-4-5-20250929", "service.version": "2.1.0" }),
        },
      ]);
    });
  }
});

describe("exactly once", () => {
  for (const encoding of ["json", "protobuf"] as const) {
    test(`${encoding}: a 503 with Retry-After: 0 is retried by the exporter; the spans are stored once`, async () => {
      const { store, running } = await serve();
      const proxy = proxyTo(running.url, { failures: 1, mode: "refuse" });
      await exportSpans(traceExporter(encoding, proxy.url, true), AGENT_TRACE);
      expect(proxy.exchanges.map((e) => e.status)).toEqual([503, 200]);
      expect(countRows(store, "executions")).toBe(3);
      expect(countRows(store, "tool_calls")).toBe(2);
    });

    test(`${encoding}: an answer lost after the commit: the retry brings the same spans and they are still stored once`, async () => {
      const { store, running } = await serve();
      const proxy = proxyTo(running.url, { failures: 2, mode: "lose" });
      await exportSpans(traceExporter(encoding, proxy.url), AGENT_TRACE);
      // Three requests reached the server, each with the same five records.
      expect(proxy.exchanges.map((e) => e.status)).toEqual([503, 503, 200]);
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      expect(metricLine(metrics, 'tally_http_requests_total{route="/v1/traces",status="200"}')).toBe(3);
      expect(metricLine(metrics, 'tally_ingest_records_total{kind="execution",outcome="duplicate"}')).toBe(6);
      expect(countRows(store, "executions")).toBe(3);
      expect(countRows(store, "tool_calls")).toBe(2);
      expect(queryRows(store, "SELECT input_tokens FROM executions ORDER BY created_at").map((r) => r.input_tokens)).toEqual([100, 500, 800]);
    });
  }

  test("the same spans exported twice by two producers (same trace and span ids) are stored once", async () => {
    const { store, running } = await serve();
    await exportSpans(traceExporter("protobuf", running.url), AGENT_TRACE);
    await exportSpans(traceExporter("json", running.url, true), AGENT_TRACE);
    expect(countRows(store, "executions")).toBe(3);
    expect(countRows(store, "tool_calls")).toBe(2);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metricLine(metrics, 'tally_ingest_records_total{kind="execution",outcome="accepted"}')).toBe(3);
    expect(metricLine(metrics, 'tally_ingest_records_total{kind="execution",outcome="duplicate"}')).toBe(3);
  });

  test("Claude Code's events exported twice, and retried once, are stored once", async () => {
    const { store, running } = await serve();
    const proxy = proxyTo(running.url, { failures: 1, mode: "lose" });
    await exportLogs(logExporter("json", proxy.url), CLAUDE_CODE_EVENTS);
    await exportLogs(logExporter("protobuf", running.url, true), CLAUDE_CODE_EVENTS);
    expect(proxy.exchanges.map((e) => e.status)).toEqual(Array.from({ length: proxy.exchanges.length }, (_, i) => (i === 0 ? 503 : 200)));
    // SimpleLogRecordProcessor exports one record per request; the first was answered 503 and retried.
    expect(proxy.exchanges.length).toBe(CLAUDE_CODE_EVENTS.length + 1);
    expect(countRows(store, "executions")).toBe(2);
    expect(countRows(store, "tool_calls")).toBe(2);
    expect(countRows(store, "rate_limit_events")).toBe(1);
  });
});

describe("metrics", () => {
  /**
   * The OTLP/HTTP JSON metric exporter as `@opentelemetry/exporter-metrics-otlp-http` builds
   * it (that package is not installed here): the same export delegate, serializer and transport.
   */
  function jsonMetricExporter(url: string): PushMetricExporter {
    const config = convertLegacyHttpOptions({ url, timeoutMillis: 5_000 }, "METRICS", "v1/metrics", { "Content-Type": "application/json" });
    return new OTLPExporterBase(createOtlpHttpExportDelegate(config, JsonMetricsSerializer, "otlp_http_metric_exporter", MetricsExporterMetricsHelper, undefined));
  }

  async function exportMetrics(exporter: PushMetricExporter): Promise<void> {
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ "service.name": "claude-code" }), readers: [reader] });
    const meter = provider.getMeter("com.anthropic.claude_code");
    meter.createCounter("claude_code.cost.usage", { unit: "USD" }).add(0.5, { model: "claude-sonnet-4-5" });
    meter.createCounter("claude_code.token.usage", { unit: "tokens" }).add(1200, { type: "input", model: "claude-sonnet-4-5" });
    await provider.forceFlush();
    await provider.shutdown();
  }

  async function expectMetricsAcceptedAndNothingStored(exporter: (url: string) => PushMetricExporter) {
    const { store, running } = await serve();
    const proxy = proxyTo(running.url);
    await exportMetrics(exporter(`${proxy.url}/v1/metrics`));
    expect(proxy.exchanges.length).toBeGreaterThanOrEqual(1);
    for (const exchange of proxy.exchanges) {
      expect(exchange.path).toBe("/v1/metrics");
      expect(exchange.status).toBe(200);
      expect(JSON.parse(new TextDecoder().decode(exchange.responseBody))).toEqual({});
    }
    for (const table of ["executions", "tool_calls", "rate_limit_events", "sessions", "cache_events"]) expect(countRows(store, table)).toBe(0);
  }

  test("a MeterProvider's JSON export is answered 200 and stores nothing (exporter built from otlp-exporter-base)", async () => {
    await expectMetricsAcceptedAndNothingStored(jsonMetricExporter);
  });

  const metricsExporterPackage = "@opentelemetry/exporter-metrics-otlp-http";
  const installed = (() => {
    try {
      require.resolve(metricsExporterPackage);
      return true;
    } catch {
      return false;
    }
  })();
  test.skipIf(!installed)(`${metricsExporterPackage}: answered 200 and stores nothing`, async () => {
    const { OTLPMetricExporter } = (await import(metricsExporterPackage)) as { OTLPMetricExporter: new (config: { url: string }) => PushMetricExporter };
    await expectMetricsAcceptedAndNothingStored((url) => new OTLPMetricExporter({ url }));
  });
});

describe("the answer", () => {
  for (const variant of VARIANTS) {
    test(`${variantName(variant)}: in the request's encoding; arrives as sent`, async () => {
      const { running } = await serve();
      const proxy = proxyTo(running.url);
      await exportSpans(traceExporter(variant.encoding, proxy.url, variant.gzip), AGENT_TRACE);
      await exportLogs(logExporter(variant.encoding, proxy.url, variant.gzip), CLAUDE_CODE_EVENTS.slice(0, 1));
      expect(proxy.exchanges.map((e) => e.path)).toEqual(["/v1/traces", "/v1/logs"]);
      const requestType = variant.encoding === "json" ? "application/json" : "application/x-protobuf";
      for (const exchange of proxy.exchanges) {
        expect(exchange.status).toBe(200);
        expect(exchange.contentType).toBe(requestType);
        expect(exchange.contentEncoding).toBe(variant.gzip ? "gzip" : null);
        expect(exchange.responseType).toBe(requestType);
      }
      const [traces, logs] = proxy.exchanges.map((e) => e.responseBody);
      if (variant.encoding === "json") {
        expect(JSON.parse(new TextDecoder().decode(traces))).toEqual({});
        expect(JSON.parse(new TextDecoder().decode(logs))).toEqual({});
      } else {
        // Everything used: an empty Export*ServiceResponse, zero bytes of protobuf.
        expect(traces!.byteLength).toBe(0);
        expect(fromBinary(ExportTraceServiceResponseSchema, traces!).partialSuccess).toBeUndefined();
        expect(fromBinary(ExportLogsServiceResponseSchema, logs!).partialSuccess).toBeUndefined();
      }
    });
  }

  const noModel: SpanSpec = { name: "chat", startMs: 0, durationMs: 5, attributes: { "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10 } };
  const withModel: SpanSpec = { name: "chat", startMs: 10, durationMs: 5, attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5" } };
  const rejectedMessage = "1 span rejected; first: model-call span has no gen_ai.response.model, gen_ai.request.model or llm.model_name";

  test("json: a span without a model is counted in partialSuccess.rejectedSpans with a message; the other is stored", async () => {
    const { store, running } = await serve();
    const proxy = proxyTo(running.url);
    await exportSpans(traceExporter("json", proxy.url), [noModel, withModel]);
    expect(proxy.exchanges).toHaveLength(1);
    const exchange = proxy.exchanges[0]!;
    expect(exchange.status).toBe(200);
    expect(exchange.responseType).toBe("application/json");
    // proto3 JSON writes the int64 count as a string.
    expect(JSON.parse(new TextDecoder().decode(exchange.responseBody))).toEqual({ partialSuccess: { rejectedSpans: "1", errorMessage: rejectedMessage } });
    expect(queryRows(store, "SELECT id FROM executions").map((r) => r.id)).toEqual([spanRecordId(2)]);
  });

  test("protobuf: the same partial success, as protobuf", async () => {
    const { store, running } = await serve();
    const proxy = proxyTo(running.url);
    await exportSpans(traceExporter("protobuf", proxy.url, true), [noModel, withModel]);
    const exchange = proxy.exchanges[0]!;
    expect(exchange.responseType).toBe("application/x-protobuf");
    const answer = fromBinary(ExportTraceServiceResponseSchema, exchange.responseBody);
    expect(answer.partialSuccess?.rejectedSpans).toBe(1n);
    expect(answer.partialSuccess?.errorMessage).toBe(rejectedMessage);
    expect(countRows(store, "executions")).toBe(1);
  });
});
