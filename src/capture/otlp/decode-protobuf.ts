/**
 * OTLP/HTTP protobuf bodies, decoded with the schemas generated from opentelemetry-proto
 * (`generated/`, `npm run gen:otlp`) and reduced to the decoded form the mapper reads.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { AnyValue, KeyValue } from "./generated/opentelemetry/proto/common/v1/common_pb.ts";
import { ExportLogsServiceRequestSchema } from "./generated/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { ExportMetricsServiceRequestSchema } from "./generated/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { ExportTraceServiceRequestSchema } from "./generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import type { Resource } from "./generated/opentelemetry/proto/resource/v1/resource_pb.ts";
import { toHex } from "./hex.ts";
import {
  type AttributeValue,
  type Attributes,
  type DecodedItem,
  type DecodedLogRecord,
  type DecodedRequest,
  type DecodedSpan,
  type OtlpSignal,
  OtlpDecodeError,
} from "./types.ts";

// protobuf-es counts every nested message against this limit and throws past it, so a body of
// deeply nested key-value lists cannot exhaust the stack. OTLP itself nests 6 messages deep to
// reach an attribute; what is left allows ~30 levels of nested attribute values.
const BINARY_OPTIONS = { readUnknownFields: false, recursionLimit: 100 } as const;

/** Decodes an Export*ServiceRequest; throws OtlpDecodeError for bytes that are not one. */
export function decodeProtobuf(signal: OtlpSignal, body: Uint8Array): DecodedRequest {
  switch (signal) {
    case "traces":
      return { signal, items: traceItems(body) };
    case "logs":
      return { signal, items: logItems(body) };
    case "metrics":
      return { signal, items: metricItems(body) };
  }
}

function parse<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    // protobuf-es's messages name wire types, field numbers and limits, never field contents.
    const reason = error instanceof Error ? error.message.slice(0, 200) : "unreadable";
    throw new OtlpDecodeError(`body is not a valid OTLP protobuf message: ${reason}`, { cause: error });
  }
}

function traceItems(body: Uint8Array): DecodedItem<DecodedSpan>[] {
  const request = parse(() => fromBinary(ExportTraceServiceRequestSchema, body, BINARY_OPTIONS));
  const items: DecodedItem<DecodedSpan>[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = resourceAttributes(resourceSpans.resource);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const scopeName = scopeSpans.scope?.name ?? "";
      for (const span of scopeSpans.spans) {
        items.push({
          ok: true,
          resource,
          scopeName,
          value: {
            traceId: toHex(span.traceId),
            spanId: toHex(span.spanId),
            name: span.name,
            startTimeUnixNano: span.startTimeUnixNano,
            endTimeUnixNano: span.endTimeUnixNano,
            statusCode: span.status?.code ?? 0,
            attributes: attributesOf(span.attributes),
          },
        });
      }
    }
  }
  return items;
}

function logItems(body: Uint8Array): DecodedItem<DecodedLogRecord>[] {
  const request = parse(() => fromBinary(ExportLogsServiceRequestSchema, body, BINARY_OPTIONS));
  const items: DecodedItem<DecodedLogRecord>[] = [];
  for (const resourceLogs of request.resourceLogs) {
    const resource = resourceAttributes(resourceLogs.resource);
    for (const scopeLogs of resourceLogs.scopeLogs) {
      const scopeName = scopeLogs.scope?.name ?? "";
      for (const record of scopeLogs.logRecords) {
        items.push({
          ok: true,
          resource,
          scopeName,
          value: {
            timeUnixNano: record.timeUnixNano,
            observedTimeUnixNano: record.observedTimeUnixNano,
            eventName: record.eventName,
            body: record.body?.value.case === "stringValue" ? record.body.value.value : null,
            attributes: attributesOf(record.attributes),
          },
        });
      }
    }
  }
  return items;
}

function metricItems(body: Uint8Array): DecodedItem<null>[] {
  const request = parse(() => fromBinary(ExportMetricsServiceRequestSchema, body, BINARY_OPTIONS));
  const items: DecodedItem<null>[] = [];
  for (const resourceMetrics of request.resourceMetrics) {
    const resource = resourceAttributes(resourceMetrics.resource);
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scopeName = scopeMetrics.scope?.name ?? "";
      for (const metric of scopeMetrics.metrics) {
        // A metric with no data (the oneof unset) has no data points to count.
        const points = metric.data.case === undefined ? 0 : metric.data.value.dataPoints.length;
        for (let i = 0; i < points; i++) items.push({ ok: true, resource, scopeName, value: null });
      }
    }
  }
  return items;
}

function resourceAttributes(resource: Resource | undefined): Attributes {
  return attributesOf(resource?.attributes ?? []);
}

function attributesOf(list: KeyValue[]): Attributes {
  const map = new Map<string, AttributeValue>();
  for (const { key, value } of list) map.set(key, scalarOf(value));
  return map;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function scalarOf(value: AnyValue | undefined): AttributeValue {
  const content = value?.value;
  switch (content?.case) {
    case "stringValue":
    case "boolValue":
    case "doubleValue":
      return content.value;
    case "intValue":
      return content.value >= MIN_SAFE && content.value <= MAX_SAFE ? Number(content.value) : null;
    default:
      return null;
  }
}
