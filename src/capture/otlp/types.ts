/**
 * The OTLP mapping's public shapes, and the decoded form both decoders (protobuf and JSON)
 * produce so that one mapper reads either.
 */
import type { RecordKind } from "../../core/rows.ts";

/** The three OTLP/HTTP signals: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`. */
export type OtlpSignal = "traces" | "logs" | "metrics";

/** `application/x-protobuf` or `application/json`. */
export type OtlpEncoding = "protobuf" | "json";

/**
 * One record for Tally, in the shape of the library's `record*()` input (ExecutionRecord,
 * ToolCallRecord, RateLimitEventRecord), always with a deterministic `id` derived from the
 * producer's identity (trace and span id, request id, session and event sequence), so a retried
 * export is stored once.
 */
export interface MappedRecord {
  kind: RecordKind;
  value: Record<string, unknown>;
}

/** What one OTLP export request maps to. */
export interface OtlpMapping {
  records: MappedRecord[];
  /** Items (spans, log records, data points) that could not be used. */
  rejected: number;
  /** Why, for the first rejected item (attribute names only, never attribute values or prompt text); null when none. */
  errorMessage: string | null;
  /** Items understood but deliberately not turned into records (agent spans, unrelated spans and logs, metrics). */
  ignored: number;
}

/** A malformed request body: the server answers 400 with this message (it never quotes the body). */
export class OtlpDecodeError extends Error {
  override readonly name = "OtlpDecodeError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An attribute value as the mapping reads it. Integers outside the safe range, arrays,
 * key-value lists, bytes and empty values are `null`: present, but never usable as a field.
 */
export type AttributeValue = string | number | boolean | null;

/** Attributes by key (the last of duplicated keys wins). */
export type Attributes = ReadonlyMap<string, AttributeValue>;

/** What a span, log record or data point was sent with. */
export interface ItemContext {
  resource: Attributes;
  scopeName: string;
}

/** A span, reduced to what the mapping reads. Ids are lowercase hex (empty when absent). */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** `Status.code`: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: Attributes;
}

/** A log record, reduced to what the mapping reads. */
export interface DecodedLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** The record's `event_name` field (empty when unset). */
  eventName: string;
  /** The body when it is a string, else null. */
  body: string | null;
  attributes: Attributes;
}

/** One item of a request: readable (with its resource and scope), or not, and why. */
export type DecodedItem<T> = ({ ok: true; value: T } & ItemContext) | { ok: false; problem: string };

/** A decoded export request: its items in order. Metrics items carry nothing: they are only counted. */
export type DecodedRequest =
  | { signal: "traces"; items: DecodedItem<DecodedSpan>[] }
  | { signal: "logs"; items: DecodedItem<DecodedLogRecord>[] }
  | { signal: "metrics"; items: DecodedItem<null>[] };
