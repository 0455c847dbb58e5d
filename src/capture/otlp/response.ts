/**
 * The Export*ServiceResponse that answers a request, in the request's encoding. OTLP reports
 * rejected items in a 200 with `partial_success`; a fully accepted request gets an empty one.
 */
import { create, toBinary, toJson, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { ExportLogsServiceResponseSchema } from "./generated/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { ExportMetricsServiceResponseSchema } from "./generated/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { ExportTraceServiceResponseSchema } from "./generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import { StatusSchema } from "./generated/google/rpc/status_pb.ts";
import type { OtlpEncoding, OtlpMapping, OtlpSignal } from "./types.ts";

const utf8 = new TextEncoder();

/**
 * The response for `signal` in `encoding`: `partialSuccess` with the rejected count
 * (`rejectedSpans`, `rejectedLogRecords` or `rejectedDataPoints`) and the message when
 * something was rejected or there is a message; otherwise an empty message (`{}` in JSON).
 * JSON writes the int64 count as a string, as proto3 JSON does.
 */
export function encodeOtlpResponse(
  signal: OtlpSignal,
  encoding: OtlpEncoding,
  mapping: Pick<OtlpMapping, "rejected" | "errorMessage">,
): Uint8Array {
  const rejected = Number.isSafeInteger(mapping.rejected) && mapping.rejected > 0 ? BigInt(mapping.rejected) : 0n;
  const errorMessage = mapping.errorMessage ?? "";
  // An empty partial_success means full success; it is left out, so JSON answers `{}`.
  const partial = rejected > 0n || errorMessage !== "";
  const encode = <Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Uint8Array => {
    const message = create(schema, partial ? init : undefined);
    return encoding === "protobuf" ? toBinary(schema, message) : utf8.encode(JSON.stringify(toJson(schema, message)));
  };
  switch (signal) {
    case "traces":
      return encode(ExportTraceServiceResponseSchema, { partialSuccess: { rejectedSpans: rejected, errorMessage } });
    case "logs":
      return encode(ExportLogsServiceResponseSchema, { partialSuccess: { rejectedLogRecords: rejected, errorMessage } });
    case "metrics":
      return encode(ExportMetricsServiceResponseSchema, { partialSuccess: { rejectedDataPoints: rejected, errorMessage } });
  }
}

/** gRPC status codes for the HTTP statuses an OTLP route answers with (google.rpc.Code). */
const GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14 };

/**
 * The body of a 4xx or 5xx answer to an OTLP request: a `google.rpc.Status` in the request's
 * encoding, as the OTLP/HTTP specification asks (exporters may log its message).
 */
export function encodeOtlpStatus(encoding: OtlpEncoding, httpStatus: number, message: string): Uint8Array {
  const status = create(StatusSchema, { code: GRPC_CODES[httpStatus] ?? 2, message });
  return encoding === "protobuf" ? toBinary(StatusSchema, status) : utf8.encode(JSON.stringify(toJson(StatusSchema, status)));
}
