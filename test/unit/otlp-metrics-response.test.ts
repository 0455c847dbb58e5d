import { describe, expect, test } from "bun:test";
import { fromBinary } from "@bufbuild/protobuf";
import { encodeOtlpResponse, mapOtlpRequest, type OtlpSignal } from "../../src/capture/otlp/index.ts";
import { ExportLogsServiceResponseSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { ExportMetricsServiceResponseSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { ExportTraceServiceResponseSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import { ENCODINGS, metricBodies } from "./otlp-bodies.ts";

describe("metrics", () => {
  test("Claude Code's metrics are decoded and counted, every data point ignored (its events carry the same numbers)", async () => {
    const bodies = await metricBodies((meter) => {
      const cost = meter.createCounter("claude_code.cost.usage", { unit: "USD" });
      const tokens = meter.createCounter("claude_code.token.usage", { unit: "tokens" });
      cost.add(0.0123, { "session.id": "s-1", model: "claude-sonnet-4-5" });
      for (const type of ["input", "output", "cacheRead", "cacheCreation"]) tokens.add(10, { "session.id": "s-1", model: "claude-sonnet-4-5", type });
      meter.createHistogram("claude_code.api.duration").record(512);
      meter.createGauge("claude_code.active").record(1);
    });
    for (const encoding of ENCODINGS) {
      expect(mapOtlpRequest("metrics", encoding, bodies[encoding])).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 7 });
    }
  });

  test("an empty export and a metric without data hold no data points", () => {
    expect(mapOtlpRequest("metrics", "protobuf", new Uint8Array())).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 0 });
    const json = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "m" }] }] }] };
    expect(mapOtlpRequest("metrics", "json", new TextEncoder().encode(JSON.stringify(json)))).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 0 });
  });
});

const REJECTED_FIELD: Record<OtlpSignal, string> = { traces: "rejectedSpans", logs: "rejectedLogRecords", metrics: "rejectedDataPoints" };

function decodeResponse(signal: OtlpSignal, bytes: Uint8Array) {
  switch (signal) {
    case "traces": {
      const p = fromBinary(ExportTraceServiceResponseSchema, bytes).partialSuccess;
      return p === undefined ? undefined : { rejected: p.rejectedSpans, errorMessage: p.errorMessage };
    }
    case "logs": {
      const p = fromBinary(ExportLogsServiceResponseSchema, bytes).partialSuccess;
      return p === undefined ? undefined : { rejected: p.rejectedLogRecords, errorMessage: p.errorMessage };
    }
    case "metrics": {
      const p = fromBinary(ExportMetricsServiceResponseSchema, bytes).partialSuccess;
      return p === undefined ? undefined : { rejected: p.rejectedDataPoints, errorMessage: p.errorMessage };
    }
  }
}

describe("encodeOtlpResponse", () => {
  for (const signal of ["traces", "logs", "metrics"] as const) {
    test(`${signal}: partialSuccess with the rejected count and message, in protobuf and JSON`, () => {
      const mapping = { rejected: 3, errorMessage: "3 items rejected; first: something" };
      expect(decodeResponse(signal, encodeOtlpResponse(signal, "protobuf", mapping))).toEqual({ rejected: 3n, errorMessage: mapping.errorMessage });
      const json = JSON.parse(new TextDecoder().decode(encodeOtlpResponse(signal, "json", mapping)));
      // int64 is a string in proto3 JSON; OTLP receivers accept it either way.
      expect(json).toEqual({ partialSuccess: { [REJECTED_FIELD[signal]]: "3", errorMessage: mapping.errorMessage } });
    });

    test(`${signal}: a fully accepted request gets an empty response`, () => {
      const none = { rejected: 0, errorMessage: null };
      expect(encodeOtlpResponse(signal, "protobuf", none)).toEqual(new Uint8Array());
      expect(decodeResponse(signal, encodeOtlpResponse(signal, "protobuf", none))).toBeUndefined();
      expect(new TextDecoder().decode(encodeOtlpResponse(signal, "json", none))).toBe("{}");
    });
  }

  test("a mapping's own answer round-trips", () => {
    const body = new TextEncoder().encode(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [5, { traceId: "zz" }] }] }] }));
    const mapping = mapOtlpRequest("traces", "json", body);
    expect(mapping.rejected).toBe(2);
    expect(decodeResponse("traces", encodeOtlpResponse("traces", "protobuf", mapping))).toEqual({ rejected: 2n, errorMessage: "2 spans rejected; first: span is not a JSON object" });
  });
});
