/**
 * OTLP/HTTP: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`, protobuf or JSON, gzip allowed.
 * Spans and log records are mapped to Tally records (`capture/otlp`) and committed before the
 * answer; what could not be used is counted in `partialSuccess`, in the request's encoding.
 * 400 is final for the exporter, 429 and 503 (with Retry-After) are retried.
 */
import { Hono, type Context } from "hono";
import { encodeOtlpResponse, encodeOtlpStatus, mapOtlpRequest, OtlpDecodeError, type OtlpEncoding, type OtlpSignal } from "../../capture/otlp/index.ts";
import { BodyError, mediaType, readBody } from "../body.ts";
import type { Ingestor } from "../ingest.ts";
import type { ServerMetrics } from "../metrics.ts";
import { problem } from "../problem.ts";

const ENCODINGS: Record<string, OtlpEncoding> = { "application/x-protobuf": "protobuf", "application/protobuf": "protobuf", "application/json": "json" };
const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: "application/x-protobuf", json: "application/json" };

export function otlpRoutes(ingestor: Ingestor, metrics: ServerMetrics, maxBodyBytes: number): Hono {
  const app = new Hono();
  for (const signal of ["traces", "logs", "metrics"] as const) {
    app.post(`/v1/${signal}`, (c) => exportSignal(c, signal, ingestor, metrics, maxBodyBytes));
  }
  return app;
}

async function exportSignal(c: Context, signal: OtlpSignal, ingestor: Ingestor, metrics: ServerMetrics, maxBodyBytes: number): Promise<Response> {
  const type = mediaType(c.req.raw);
  const encoding = ENCODINGS[type];
  if (encoding === undefined) {
    metrics.turnedAway.inc({ reason: "bad_request" });
    return problem(c, 415, "send application/x-protobuf or application/json", "OTLP/HTTP exporters: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json");
  }
  // Failures are a google.rpc.Status in the request's own encoding, as OTLP/HTTP asks.
  const failure = (status: 400 | 413 | 415 | 429 | 503, message: string, headers: Record<string, string> = {}) =>
    c.body(encodeOtlpStatus(encoding, status, message) as Uint8Array<ArrayBuffer>, status, { "content-type": CONTENT_TYPES[encoding], ...headers });
  let mapping;
  try {
    mapping = mapOtlpRequest(signal, encoding, await readBody(c.req.raw, maxBodyBytes));
  } catch (error) {
    metrics.turnedAway.inc({ reason: error instanceof BodyError && error.status === 413 ? "too_large" : "bad_request" });
    if (error instanceof BodyError) return failure(error.status, error.message);
    if (error instanceof OtlpDecodeError) return failure(400, error.message);
    throw error;
  }
  const outcome = await ingestor.ingest(mapping.records);
  if (!outcome.ok) return failure(outcome.status, outcome.message, { "retry-after": String(outcome.retryAfterSeconds) });
  let rejected = mapping.rejected;
  let errorMessage = mapping.errorMessage;
  for (const result of outcome.results) {
    if (result.status === "invalid" || result.status === "refused") {
      rejected++;
      errorMessage ??= result.message;
    }
  }
  const body = encodeOtlpResponse(signal, encoding, { rejected, errorMessage });
  return c.body(body as Uint8Array<ArrayBuffer>, 200, { "content-type": CONTENT_TYPES[encoding] });
}
