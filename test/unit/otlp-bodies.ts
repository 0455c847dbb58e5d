/**
 * OTLP request bodies made by the real OpenTelemetry JS SDK and its own serialisers, so the
 * tests decode what exporters actually send.
 */
import { context, trace, type Attributes, type Meter, type Span, type SpanOptions } from "@opentelemetry/api";
import type { AnyValueMap } from "@opentelemetry/api-logs";
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator } from "@opentelemetry/sdk-trace-base";
import type { OtlpEncoding } from "../../src/capture/otlp/index.ts";

export const ENCODINGS: readonly OtlpEncoding[] = ["protobuf", "json"];

/** Both encodings of one request. */
export type Bodies = Record<OtlpEncoding, Uint8Array>;

/** 2026-01-05 12:00 UTC, the start of every span below. */
export const T0_MS = Date.UTC(2026, 0, 5, 12);

export const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

/** Span ids in order of creation: `spanId(1)` is the first span's. */
export function spanId(n: number): string {
  return n.toString(16).padStart(16, "0");
}

/** One trace id and numbered span ids, so expected record ids can be written down. */
function sequentialIds(): IdGenerator {
  let next = 0;
  return { generateTraceId: () => TRACE_ID, generateSpanId: () => spanId(++next) };
}

/** What a test span is given. */
export interface SpanSpec {
  name?: string;
  attributes: Attributes;
  /** Offset from T0 in ms. @default 0 */
  startMs?: number;
  durationMs?: number;
  error?: boolean;
  /** Index of the parent among the specs before it. */
  parent?: number;
}

/** Spans recorded by a BasicTracerProvider, serialised as the OTLP exporters do. */
export function spanBodies(specs: SpanSpec[], resource: Attributes = { "service.name": "review-bot" }): Bodies {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    idGenerator: sequentialIds(),
  });
  const tracer = provider.getTracer("tally-test", "1.0.0");
  const started: Span[] = [];
  for (const spec of specs) {
    const options: SpanOptions = { startTime: T0_MS + (spec.startMs ?? 0), attributes: spec.attributes };
    const parentContext = spec.parent === undefined ? context.active() : trace.setSpan(context.active(), started[spec.parent]!);
    const span = tracer.startSpan(spec.name ?? "span", options, parentContext);
    if (spec.error) span.setStatus({ code: 2, message: "failed" });
    started.push(span);
  }
  // Spans end in the order given, parents after all their children (as in real traces), so
  // the exporter sees them in that order.
  const parents = new Set(specs.map((spec) => spec.parent));
  const order = [...specs.keys()].filter((i) => !parents.has(i)).concat([...specs.keys()].filter((i) => parents.has(i)).reverse());
  for (const i of order) {
    const spec = specs[i]!;
    started[i]!.end(T0_MS + (spec.startMs ?? 0) + (spec.durationMs ?? 0));
  }
  const spans = exporter.getFinishedSpans();
  return { protobuf: ProtobufTraceSerializer.serializeRequest(spans)!, json: JsonTraceSerializer.serializeRequest(spans)! };
}

/** What a test log record is given. */
export interface LogSpec {
  body?: string;
  eventName?: string;
  attributes: AnyValueMap;
  /** Epoch ms; omitted: the SDK stamps the time of emission. */
  timeMs?: number;
}

/** Log records emitted through a LoggerProvider, serialised as the OTLP exporters do. */
export async function logBodies(
  specs: LogSpec[],
  resource: Attributes = { "service.name": "claude-code", "service.version": "2.1.0" },
  scope = "com.anthropic.claude_code.events",
): Promise<Bodies> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger(scope);
  for (const spec of specs) {
    logger.emit({
      ...(spec.body === undefined ? {} : { body: spec.body }),
      ...(spec.eventName === undefined ? {} : { eventName: spec.eventName }),
      ...(spec.timeMs === undefined ? {} : { timestamp: spec.timeMs }),
      attributes: spec.attributes,
    });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  if (records.length !== specs.length) throw new Error(`expected ${specs.length} exported log records, got ${records.length}`);
  return { protobuf: ProtobufLogsSerializer.serializeRequest(records)!, json: JsonLogsSerializer.serializeRequest(records)! };
}

/** Collects on demand: the test decides when a metrics export happens. */
class OnDemandReader extends MetricReader {
  constructor() {
    // Claude Code exports delta temporality.
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Metrics recorded through a MeterProvider, collected once and serialised as the OTLP exporters do. */
export async function metricBodies(record: (meter: Meter) => void, resource: Attributes = { "service.name": "claude-code" }): Promise<Bodies> {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  record(provider.getMeter("com.anthropic.claude_code"));
  const { resourceMetrics } = await reader.collect();
  return { protobuf: ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, json: JsonMetricsSerializer.serializeRequest(resourceMetrics)! };
}

/** JSON text of a body, for tests that edit it. */
export function jsonOf(body: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
}

/** Bytes of a JSON value. */
export function bytesOf(value: unknown): Uint8Array {
  return new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
}
