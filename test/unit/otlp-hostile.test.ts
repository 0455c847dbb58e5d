import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { mapOtlpRequest, OtlpDecodeError, type OtlpEncoding, type OtlpMapping, type OtlpSignal } from "../../src/capture/otlp/index.ts";
import { ExportTraceServiceRequestSchema } from "../../src/capture/otlp/generated/opentelemetry/proto/collector/trace/v1/trace_service_pb.ts";
import { rng } from "../contract/random.ts";
import { bytesOf, ENCODINGS, jsonOf, logBodies, metricBodies, spanBodies, T0_MS, TRACE_ID, type Bodies } from "./otlp-bodies.ts";

const SIGNALS: readonly OtlpSignal[] = ["traces", "logs", "metrics"];

/** The mapping, or the OtlpDecodeError it threw; any other exception fails the test. */
function outcome(signal: OtlpSignal, encoding: OtlpEncoding, body: unknown): OtlpMapping | OtlpDecodeError {
  try {
    const mapping = mapOtlpRequest(signal, encoding, body as Uint8Array);
    // Whatever came in, the counts are sane and a message goes with every rejection.
    expect(Number.isSafeInteger(mapping.rejected) && mapping.rejected >= 0).toBe(true);
    expect(Number.isSafeInteger(mapping.ignored) && mapping.ignored >= 0).toBe(true);
    expect(mapping.errorMessage === null).toBe(mapping.rejected === 0);
    return mapping;
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error;
    throw error;
  }
}

function decodeError(signal: OtlpSignal, encoding: OtlpEncoding, body: unknown): OtlpDecodeError {
  const result = outcome(signal, encoding, body);
  if (!(result instanceof OtlpDecodeError)) throw new Error(`expected an OtlpDecodeError, got ${JSON.stringify(result)}`);
  return result;
}

function mapping(signal: OtlpSignal, encoding: OtlpEncoding, body: unknown): OtlpMapping {
  const result = outcome(signal, encoding, body);
  if (result instanceof OtlpDecodeError) throw new Error(`expected a mapping, got OtlpDecodeError: ${result.message}`);
  return result;
}

const chatSpan = {
  durationMs: 10,
  attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2 },
};

/** A valid body of each signal, as the SDK serialises it. */
async function validBodies(): Promise<Record<OtlpSignal, Bodies>> {
  return {
    traces: spanBodies([chatSpan, { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "grep", "x.list": ["a", "b"] } }]),
    logs: await logBodies([
      { body: "claude_code.api_request", timeMs: T0_MS, attributes: { "event.name": "api_request", "session.id": "s", "event.sequence": 1, model: "m", input_tokens: "3", nested: { a: [1, { b: 2 }] } } },
    ]),
    metrics: await metricBodies((meter) => {
      meter.createCounter("c").add(1, { k: "v" });
      meter.createHistogram("h").record(3);
    }),
  };
}

describe("malformed bodies: OtlpDecodeError, never another exception", () => {
  test("the call's own arguments: unknown signal or encoding, a body that is not bytes", () => {
    expect(decodeError("spans" as OtlpSignal, "json", bytesOf("{}")).message).toBe("unknown OTLP signal");
    expect(decodeError("traces", "xml" as OtlpEncoding, bytesOf("{}")).message).toBe("unknown OTLP encoding");
    for (const body of [null, undefined, "{}", 5, {}, [1, 2], new ArrayBuffer(4)]) {
      for (const encoding of ENCODINGS) expect(decodeError("traces", encoding, body).message).toBe("body must be bytes");
    }
  });

  test("an empty body: an empty protobuf request is valid (nothing to map), empty JSON is not", () => {
    for (const signal of SIGNALS) {
      expect(mapping(signal, "protobuf", new Uint8Array())).toEqual({ records: [], rejected: 0, errorMessage: null, ignored: 0 });
      expect(decodeError(signal, "json", new Uint8Array()).message).toBe("body is not valid JSON");
    }
  });

  test("JSON that is not a request: not UTF-8, not JSON, not an object; messages never quote the body", () => {
    for (const signal of SIGNALS) {
      expect(decodeError(signal, "json", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])).message).toBe("body is not UTF-8 text");
      expect(decodeError(signal, "json", bytesOf('{"resourceSpans": SECRET-PROMPT}')).message).toBe("body is not valid JSON");
      for (const root of ["[]", "5", '"text"', "null", "true"]) expect(decodeError(signal, "json", bytesOf(root)).message).toBe("body must be a JSON object");
    }
  });

  test('a skeleton of the wrong shape: "resourceSpans": 5 and its kin', () => {
    expect(decodeError("traces", "json", bytesOf({ resourceSpans: 5 })).message).toBe("resourceSpans must be an array");
    expect(decodeError("traces", "json", bytesOf({ resourceSpans: [5] })).message).toBe("resourceSpans[] must be JSON objects");
    expect(decodeError("traces", "json", bytesOf({ resourceSpans: [{ scopeSpans: {} }] })).message).toBe("resourceSpans[].scopeSpans must be an array");
    expect(decodeError("traces", "json", bytesOf({ resourceSpans: [{ resource: { attributes: 5 } }] })).message).toBe("resourceSpans[].resource.attributes must be an array");
    expect(decodeError("logs", "json", bytesOf({ resourceLogs: [{ scopeLogs: [{ logRecords: "x" }] }] })).message).toBe("scopeLogs[].logRecords must be an array");
    expect(decodeError("metrics", "json", bytesOf({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ sum: { dataPoints: 1 } }] }] }] })).message).toBe(
      "metrics[].<data>.dataPoints must be an array",
    );
  });

  test("random bytes, in both encodings, for every signal (seeded)", () => {
    const random = rng(20260105);
    for (let i = 0; i < 600; i++) {
      const length = Math.floor(random() * 200);
      const body = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      for (const signal of SIGNALS) for (const encoding of ENCODINGS) outcome(signal, encoding, body);
    }
  });

  test("every truncation and seeded byte flips of real protobuf bodies", async () => {
    const bodies = await validBodies();
    const random = rng(7);
    for (const signal of SIGNALS) {
      const body = bodies[signal].protobuf;
      for (let end = 0; end < body.length; end++) outcome(signal, "protobuf", body.subarray(0, end));
      for (let i = 0; i < 400; i++) {
        const mutated = body.slice();
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        outcome(signal, "protobuf", mutated);
      }
    }
  });

  test("every truncation of real JSON bodies", async () => {
    const bodies = await validBodies();
    for (const signal of SIGNALS) {
      const body = bodies[signal].json;
      for (let end = 0; end < body.length; end += 3) outcome(signal, "json", body.subarray(0, end));
    }
  });
});

/** Every path into a JSON value, root first. */
function* paths(value: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  yield path;
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* paths(value[i], [...path, i]);
  else if (typeof value === "object" && value !== null) for (const key of Object.keys(value)) yield* paths((value as Record<string, unknown>)[key], [...path, key]);
}

function replaced(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const WRONG_VALUES: unknown[] = [null, 5, -1, 1.5, 1e308, "text", "", "-1", "18446744073709551616", true, [], [5], {}, { a: 1 }, { stringValue: 5 }, { intValue: "1e3" }];

describe("JSON with a wrong type at every level", () => {
  for (const signal of SIGNALS) {
    test(`${signal}: every field of a real body replaced by each wrong value maps or is a decode error`, async () => {
      const root = jsonOf((await validBodies())[signal].json);
      let cases = 0;
      for (const path of paths(root)) {
        for (const value of WRONG_VALUES) {
          outcome(signal, "json", bytesOf(replaced(root, path, value)));
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(200);
    });
  }

  test("a span with wrong fields is one rejected item, the others still map", () => {
    const good = { traceId: TRACE_ID, spanId: "00f067aa0ba90201", startTimeUnixNano: String(BigInt(T0_MS) * 1_000_000n), attributes: [
      { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
      { key: "gen_ai.request.model", value: { stringValue: "m" } },
    ] };
    const spans = [
      good,
      { ...good, spanId: 5 },
      { ...good, spanId: "not-hex-000000!!" },
      { ...good, startTimeUnixNano: "soon" },
      { ...good, status: { code: "bad" } },
      { ...good, attributes: [{ key: 5 }] },
      { ...good, attributes: [{ key: "k", value: { intValue: 1.5 } }] },
      { ...good, name: ["x"] },
    ];
    const result = mapping("traces", "json", bytesOf({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    expect(result.records).toHaveLength(1);
    expect(result.rejected).toBe(7);
    expect(result.errorMessage).toBe("7 spans rejected; first: span.spanId must be 8 bytes in hex");
  });

  test("snake_case names, base64 ids and enum names (generic proto3 JSON) are read too", () => {
    const span = {
      trace_id: Buffer.from(TRACE_ID, "hex").toString("base64"),
      span_id: "00F067AA0BA90201",
      start_time_unix_nano: Number(BigInt(T0_MS) * 1_000_000n),
      status: { code: "STATUS_CODE_ERROR" },
      attributes: [
        { key: "gen_ai.operation.name", value: { string_value: "chat" } },
        { key: "gen_ai.request.model", value: { stringValue: "m" } },
        { key: "gen_ai.usage.input_tokens", value: { int_value: "12" } },
      ],
    };
    const result = mapping("traces", "json", bytesOf({ resource_spans: [{ scope_spans: [{ spans: [span] }] }] }));
    expect(result.records[0]!.value).toMatchObject({ id: `otlp:${TRACE_ID}:00f067aa0ba90201`, createdAt: T0_MS, conclusion: "error", inputTokens: 12 });
  });
});

/** A GenAI chat span in OTLP/JSON with the given extra attributes. */
function jsonSpan(extra: unknown[] = [], fields: Record<string, unknown> = {}) {
  return {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: TRACE_ID,
                spanId: "00f067aa0ba90201",
                startTimeUnixNano: String(BigInt(T0_MS) * 1_000_000n),
                endTimeUnixNano: String(BigInt(T0_MS + 5) * 1_000_000n),
                attributes: [{ key: "gen_ai.operation.name", value: { stringValue: "chat" } }, { key: "gen_ai.request.model", value: { stringValue: "m" } }, ...extra],
                ...fields,
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The same span as protobuf, built with the generated schema. */
function protobufSpan(extra: { key: string; value: unknown }[] = [], fields: Record<string, unknown> = {}): Uint8Array {
  const request = create(ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: Buffer.from(TRACE_ID, "hex"),
                spanId: Buffer.from("00f067aa0ba90201", "hex"),
                startTimeUnixNano: BigInt(T0_MS) * 1_000_000n,
                endTimeUnixNano: BigInt(T0_MS + 5) * 1_000_000n,
                attributes: [
                  { key: "gen_ai.operation.name", value: { value: { case: "stringValue", value: "chat" } } },
                  { key: "gen_ai.request.model", value: { value: { case: "stringValue", value: "m" } } },
                  ...(extra as never[]),
                ],
                ...fields,
              },
            ],
          },
        ],
      },
    ],
  });
  return toBinary(ExportTraceServiceRequestSchema, request);
}

describe("sizes and depths", () => {
  test("10,000 attributes on one span", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: { stringValue: "v".repeat(20) } }));
    const json = mapping("traces", "json", bytesOf(jsonSpan(many)));
    expect(json.records).toHaveLength(1);
    const protobuf = mapping("traces", "protobuf", protobufSpan(many.map(({ key }) => ({ key, value: { value: { case: "stringValue", value: "v".repeat(20) } } }))));
    expect(protobuf.records).toEqual(json.records);
  });

  test("a 10,000-level nested kvlist: JSON leaves it unread (no recursion), protobuf stops at its recursion limit", () => {
    const depth = 10_000;
    let value = '{"stringValue":"x"}';
    for (let i = 0; i < depth; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
    const text = JSON.stringify(jsonSpan([{ key: "deep", value: 0 }])).replace('"value":0', `"value":${value}`);
    // Bun's JSON.parse takes the depth; the reader never descends into it, and the span maps.
    expect(mapping("traces", "json", bytesOf(text)).records).toHaveLength(1);
    expect(decodeError("traces", "protobuf", nestedKvlistProtobuf(depth)).message).toContain("maximum recursion depth");
  });

  test("deeply nested JSON arrays anywhere", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    outcome("traces", "json", bytesOf(`{"resourceSpans":${deep}}`));
    outcome("traces", "json", bytesOf(JSON.stringify(jsonSpan([{ key: "a", value: 0 }])).replace('"value":0', `"value":{"arrayValue":${deep}}`)));
  });

  test("a huge string where a model name goes is rejected by the record's own limits", () => {
    const huge = "m".repeat(2_000_000);
    const result = mapping("traces", "json", bytesOf(jsonSpan([{ key: "gen_ai.response.model", value: { stringValue: huge } }])));
    expect(result.rejected).toBe(1);
    expect(result.errorMessage).toContain("model must be a non-empty string of at most 1024");
  });

  test("times beyond the safe integer range are bigint throughout: exact times and durations", () => {
    const maxU64 = 2n ** 64n - 1n; // 2554-07-21, still a valid time for Tally
    const json = mapping("traces", "json", bytesOf(jsonSpan([], { startTimeUnixNano: String(maxU64), endTimeUnixNano: String(maxU64) })));
    expect(json.records[0]!.value).toMatchObject({ createdAt: 18_446_744_073_709, durationMs: 0 });
    const protobuf = mapping("traces", "protobuf", protobufSpan([], { startTimeUnixNano: maxU64, endTimeUnixNano: maxU64 }));
    expect(protobuf).toEqual(json);
    expect(mapping("traces", "json", bytesOf(jsonSpan([], { startTimeUnixNano: String(maxU64 + 1n) }))).errorMessage).toBe(
      "1 span rejected; first: span.startTimeUnixNano must be an unsigned 64-bit integer",
    );
    // 2^62 ns + 123.456789 ms: as doubles the nanoseconds would be rounded away (2^62 has 1024 ns steps).
    const start = 2n ** 62n;
    const long = mapping("traces", "protobuf", protobufSpan([], { startTimeUnixNano: start, endTimeUnixNano: start + 123_456_789n }));
    expect(long.records[0]!.value).toMatchObject({ createdAt: Number(start / 1_000_000n), durationMs: 123 });
    // A number instead of a string is accepted as long as it is an integer.
    const asNumber = mapping("traces", "json", bytesOf(jsonSpan([], { startTimeUnixNano: T0_MS * 1_000_000, endTimeUnixNano: T0_MS * 1_000_000 + 2_500_000 })));
    expect(asNumber.records[0]!.value).toMatchObject({ createdAt: T0_MS, durationMs: 3 });
  });

  test("an end before the start, no start, zero ids: rejected", () => {
    const before = mapping("traces", "json", bytesOf(jsonSpan([], { endTimeUnixNano: "1" })));
    expect(before.errorMessage).toBe("1 span rejected; first: span has an endTimeUnixNano before its startTimeUnixNano");
    expect(mapping("traces", "json", bytesOf(jsonSpan([], { startTimeUnixNano: undefined }))).errorMessage).toBe("1 span rejected; first: span has no startTimeUnixNano");
    expect(mapping("traces", "json", bytesOf(jsonSpan([], { traceId: "0".repeat(32) }))).errorMessage).toBe(
      "1 span rejected; first: span has no valid traceId (16 bytes, not all zero)",
    );
    expect(mapping("traces", "protobuf", protobufSpan([], { spanId: new Uint8Array(3) })).errorMessage).toBe(
      "1 span rejected; first: span has no valid spanId (8 bytes, not all zero)",
    );
  });

  test("a token count beyond 2^53 or of a nested type is rejected, never read as 0", () => {
    const tooBig = mapping("traces", "json", bytesOf(jsonSpan([{ key: "gen_ai.usage.input_tokens", value: { intValue: "9223372036854775807" } }])));
    expect(tooBig.errorMessage).toBe("1 span rejected; first: gen_ai.usage.input_tokens must be a non-negative number");
    const list = mapping("traces", "json", bytesOf(jsonSpan([{ key: "gen_ai.usage.input_tokens", value: { arrayValue: { values: [] } } }])));
    expect(list.rejected).toBe(1);
    const negative = mapping("traces", "protobuf", protobufSpan([{ key: "gen_ai.usage.output_tokens", value: { value: { case: "intValue", value: -5n } } }]));
    expect(negative.errorMessage).toBe("1 span rejected; first: gen_ai.usage.output_tokens must be a non-negative number");
  });

  test("__proto__ and other prototype names as keys are plain data", () => {
    const text = JSON.stringify(jsonSpan([{ key: "__proto__", value: { stringValue: "x" } }])).replace('"resourceSpans"', '"__proto__":{"resourceSpans":5},"constructor":1,"resourceSpans"');
    expect(mapping("traces", "json", bytesOf(text)).records).toHaveLength(1);
  });
});

/**
 * Protobuf bytes of a span whose one attribute nests `depth` key-value lists, encoded by hand:
 * every level only adds a prefix (tags and lengths) before the level inside it.
 */
function nestedKvlistProtobuf(depth: number): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const k = 0x6b;
  const header = (number: number, length: number): number[] => [(number << 3) | 2, ...varint(length)];
  const inner = [...header(1, 1), 0x78]; // AnyValue { string_value: "x" }
  const prefixes: number[][] = [];
  let length = inner.length;
  for (let i = 0; i < depth; i++) {
    const valueField = header(2, length); // KeyValue.value
    const keyValueLength = 3 + valueField.length + length; // KeyValue { key: "k", value }
    const listField = header(1, keyValueLength); // KeyValueList.values
    const anyValueField = header(6, listField.length + keyValueLength); // AnyValue.kvlist_value
    prefixes.push([...anyValueField, ...listField, ...header(1, 1), k, ...valueField]);
    length = anyValueField.length + listField.length + keyValueLength;
  }
  const value = new Uint8Array(length);
  let at = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    value.set(prefixes[i]!, at);
    at += prefixes[i]!.length;
  }
  value.set(inner, at);
  const field = (number: number, payload: Uint8Array | number[]): number[] => [...header(number, payload.length), ...payload];
  const attribute = [...field(1, [...new TextEncoder().encode("deep")]), ...field(2, value)];
  const span = [...field(1, [...Buffer.from(TRACE_ID, "hex")]), ...field(2, [...Buffer.from("00f067aa0ba90201", "hex")]), ...field(9, attribute)];
  return Uint8Array.from(field(1, field(2, field(2, span)))); // request.resource_spans.scope_spans.spans
}
