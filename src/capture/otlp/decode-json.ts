/**
 * OTLP/HTTP JSON bodies, read field by field into the decoded form the mapper reads.
 *
 * OTLP/JSON is not generic proto3 JSON (trace and span ids are hex, not base64; enums are
 * integers), and protobuf-es's `fromJson` quotes offending values in its errors, which may hold
 * prompts. So this is a small reader of its own: it reads only the fields the mapping uses, never
 * recurses (nested attribute values are not read), accepts lowerCamelCase and snake_case names,
 * int64 as string or number, and never quotes a value in a message.
 * The request's skeleton (resources, scopes, lists) must be right, or the whole body is refused;
 * a span, log record or data point that is wrong is one rejected item.
 */
import { toHex } from "./hex.ts";
import {
  type AttributeValue,
  type Attributes,
  type DecodedItem,
  type DecodedLogRecord,
  type DecodedRequest,
  type DecodedSpan,
  type ItemContext,
  type OtlpSignal,
  OtlpDecodeError,
} from "./types.ts";

type JsonObject = Record<string, unknown>;

/** An item that cannot be read; becomes one rejection. */
class Unreadable extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes an Export*ServiceRequest in OTLP/JSON; throws OtlpDecodeError for a body that is not one. */
export function decodeJson(signal: OtlpSignal, body: Uint8Array): DecodedRequest {
  const root = parse(body);
  if (!isObject(root)) throw new OtlpDecodeError("body must be a JSON object");
  switch (signal) {
    case "traces":
      return { signal, items: items(root, ["resourceSpans", "scopeSpans", "spans"], readSpan) };
    case "logs":
      return { signal, items: items(root, ["resourceLogs", "scopeLogs", "logRecords"], readLogRecord) };
    case "metrics":
      return { signal, items: metricItems(root) };
  }
}

function parse(body: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new OtlpDecodeError("body is not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's own message quotes the text around the error: it is not passed on.
    throw new OtlpDecodeError("body is not valid JSON");
  }
}

/** Walks resource → scope → item lists, reading each item with `read`. */
function items<T>(
  root: JsonObject,
  [resourceList, scopeList, itemList]: [string, string, string],
  read: (raw: JsonObject, where: string) => T,
): DecodedItem<T>[] {
  const out: DecodedItem<T>[] = [];
  for (const [resource, scope, raw] of walk(root, resourceList, scopeList, itemList)) {
    const where = singular(itemList);
    if (!isObject(raw)) {
      out.push({ ok: false, problem: `${where} is not a JSON object` });
      continue;
    }
    try {
      out.push({ ok: true, ...resource, ...scope, value: read(raw, where) });
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
      out.push({ ok: false, problem: error.message });
    }
  }
  return out;
}

/** Every item of the request with its resource and scope; a malformed skeleton is a decode error. */
function* walk(
  root: JsonObject,
  resourceList: string,
  scopeList: string,
  itemList: string,
): Generator<[{ resource: Attributes }, { scopeName: string }, unknown]> {
  for (const resourceEntry of objects(root, resourceList, resourceList)) {
    const resource = { resource: resourceAttributes(resourceEntry, resourceList) };
    for (const scopeEntry of objects(resourceEntry, scopeList, `${resourceList}[].${scopeList}`)) {
      const scope = { scopeName: scopeName(scopeEntry, scopeList) };
      for (const raw of array(scopeEntry, itemList, `${scopeList}[].${itemList}`)) yield [resource, scope, raw];
    }
  }
}

function metricItems(root: JsonObject): DecodedItem<null>[] {
  const out: DecodedItem<null>[] = [];
  for (const [resource, scope, metric] of walk(root, "resourceMetrics", "scopeMetrics", "metrics")) {
    if (!isObject(metric)) throw new OtlpDecodeError("scopeMetrics[].metrics[] must be JSON objects");
    const data = metricData(metric);
    if (data === undefined) continue; // a metric with no data has no data points
    const context: ItemContext = { ...resource, ...scope };
    for (const point of array(data, "dataPoints", "metrics[].<data>.dataPoints")) {
      out.push(isObject(point) ? { ok: true, ...context, value: null } : { ok: false, problem: "data point is not a JSON object" });
    }
  }
  return out;
}

const METRIC_DATA = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const;

function metricData(metric: JsonObject): JsonObject | undefined {
  for (const name of METRIC_DATA) {
    const data = field(metric, name);
    if (data === undefined || data === null) continue;
    if (!isObject(data)) throw new OtlpDecodeError(`metrics[].${name} must be a JSON object`);
    return data;
  }
  return undefined;
}

function readSpan(raw: JsonObject, where: string): DecodedSpan {
  return {
    traceId: id(raw, "traceId", 16, where),
    spanId: id(raw, "spanId", 8, where),
    name: text(raw, "name", where),
    startTimeUnixNano: nanos(raw, "startTimeUnixNano", where),
    endTimeUnixNano: nanos(raw, "endTimeUnixNano", where),
    statusCode: statusCode(raw, where),
    attributes: attributes(raw, where),
  };
}

function readLogRecord(raw: JsonObject, where: string): DecodedLogRecord {
  const body = field(raw, "body");
  if (body !== undefined && body !== null && !isObject(body)) throw new Unreadable(`${where}.body must be an AnyValue object`);
  const bodyText = isObject(body) ? field(body, "stringValue") : undefined;
  return {
    timeUnixNano: nanos(raw, "timeUnixNano", where),
    observedTimeUnixNano: nanos(raw, "observedTimeUnixNano", where),
    eventName: text(raw, "eventName", where),
    body: typeof bodyText === "string" ? bodyText : null,
    attributes: attributes(raw, where),
  };
}

function resourceAttributes(entry: JsonObject, where: string): Attributes {
  const resource = field(entry, "resource");
  if (resource === undefined || resource === null) return new Map();
  if (!isObject(resource)) throw new OtlpDecodeError(`${where}[].resource must be a JSON object`);
  try {
    return attributes(resource, `${where}[].resource`);
  } catch (error) {
    if (error instanceof Unreadable) throw new OtlpDecodeError(error.message);
    throw error;
  }
}

function scopeName(entry: JsonObject, where: string): string {
  const scope = field(entry, "scope");
  if (scope === undefined || scope === null) return "";
  if (!isObject(scope)) throw new OtlpDecodeError(`${where}[].scope must be a JSON object`);
  const name = field(scope, "name");
  return typeof name === "string" ? name : "";
}

function attributes(owner: JsonObject, where: string): Attributes {
  const map = new Map<string, AttributeValue>();
  const list = field(owner, "attributes");
  if (list === undefined || list === null) return map;
  if (!Array.isArray(list)) throw new Unreadable(`${where}.attributes must be an array`);
  for (const entry of list) {
    const key = isObject(entry) ? field(entry, "key") : undefined;
    if (typeof key !== "string") throw new Unreadable(`${where}.attributes must hold {key, value} objects with a string key`);
    map.set(key, anyValue(field(entry as JsonObject, "value"), where));
  }
  return map;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const INTEGER_TEXT = /^-?\d{1,20}$/;
const SPECIAL_DOUBLES: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

/** The scalar in an AnyValue; nested values (arrays, key-value lists) and bytes are not read. */
function anyValue(value: unknown, where: string): AttributeValue {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new Unreadable(`${where}.attributes values must be AnyValue objects`);
  const string = field(value, "stringValue");
  if (string !== undefined) {
    if (typeof string !== "string") throw new Unreadable(`${where}.attributes stringValue must be a string`);
    return string;
  }
  const bool = field(value, "boolValue");
  if (bool !== undefined) {
    if (typeof bool !== "boolean") throw new Unreadable(`${where}.attributes boolValue must be a boolean`);
    return bool;
  }
  const int = field(value, "intValue");
  if (int !== undefined) {
    const parsed = integer(int, INT64_MIN, INT64_MAX);
    if (parsed === undefined) throw new Unreadable(`${where}.attributes intValue must be a 64-bit integer`);
    return Number.isSafeInteger(Number(parsed)) ? Number(parsed) : null;
  }
  const double = field(value, "doubleValue");
  if (double !== undefined) {
    if (typeof double === "number") return double;
    if (typeof double === "string" && Object.hasOwn(SPECIAL_DOUBLES, double)) return SPECIAL_DOUBLES[double] as number;
    throw new Unreadable(`${where}.attributes doubleValue must be a number`);
  }
  return null;
}

/** An integer given as a JSON number or a decimal string, within [min, max]; undefined otherwise. */
function integer(value: unknown, min: bigint, max: bigint): bigint | undefined {
  let parsed: bigint;
  if (typeof value === "number" && Number.isInteger(value)) parsed = BigInt(value);
  else if (typeof value === "string" && INTEGER_TEXT.test(value)) parsed = BigInt(value);
  else return undefined;
  return parsed >= min && parsed <= max ? parsed : undefined;
}

function nanos(raw: JsonObject, name: string, where: string): bigint {
  const value = field(raw, name);
  if (value === undefined || value === null) return 0n;
  const parsed = integer(value, 0n, UINT64_MAX);
  if (parsed === undefined) throw new Unreadable(`${where}.${name} must be an unsigned 64-bit integer`);
  return parsed;
}

const HEX_TEXT = /^[0-9a-fA-F]*$/;
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A trace or span id as lowercase hex. OTLP/JSON spells ids in hex; base64 (generic proto3
 * JSON, which some early exporters sent) is accepted when its length tells it apart.
 */
function id(raw: JsonObject, name: string, bytes: number, where: string): string {
  const value = field(raw, name);
  if (value === undefined || value === null || value === "") return "";
  if (typeof value === "string") {
    if (value.length === bytes * 2 && HEX_TEXT.test(value)) return value.toLowerCase();
    if (value.length === Math.ceil(bytes / 3) * 4 && BASE64_TEXT.test(value)) {
      const decoded = fromBase64(value);
      if (decoded?.length === bytes) return toHex(decoded);
    }
  }
  throw new Unreadable(`${where}.${name} must be ${bytes} bytes in hex`);
}

function fromBase64(value: string): Uint8Array | undefined {
  try {
    const binary = atob(value);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function statusCode(raw: JsonObject, where: string): number {
  const status = field(raw, "status");
  if (status === undefined || status === null) return 0;
  if (!isObject(status)) throw new Unreadable(`${where}.status must be a JSON object`);
  const code = field(status, "code");
  if (code === undefined || code === null) return 0;
  if (typeof code === "number" && Number.isInteger(code)) return code;
  // Enums are integers in OTLP/JSON; generic proto3 JSON writes their names.
  if (typeof code === "string" && Object.hasOwn(STATUS_NAMES, code)) return STATUS_NAMES[code] as number;
  throw new Unreadable(`${where}.status.code must be an integer`);
}

function text(raw: JsonObject, name: string, where: string): string {
  const value = field(raw, name);
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new Unreadable(`${where}.${name} must be a string`);
  return value;
}

/** A list of the skeleton: absent or null is empty; anything but an array of objects is a decode error. */
function objects(owner: JsonObject, name: string, where: string): JsonObject[] {
  const list = array(owner, name, where);
  for (const entry of list) if (!isObject(entry)) throw new OtlpDecodeError(`${where}[] must be JSON objects`);
  return list as JsonObject[];
}

function array(owner: JsonObject, name: string, where: string): unknown[] {
  const list = field(owner, name);
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new OtlpDecodeError(`${where} must be an array`);
  return list;
}

const snakeNames = new Map<string, string>();

/** A field by its lowerCamelCase JSON name or its proto (snake_case) name, own properties only. */
function field(owner: JsonObject, camel: string): unknown {
  if (Object.hasOwn(owner, camel)) return owner[camel];
  let snake = snakeNames.get(camel);
  if (snake === undefined) {
    snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(camel, snake);
  }
  return Object.hasOwn(owner, snake) ? owner[snake] : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `spans` → `span`, `logRecords` → `logRecord`: how messages name an item. */
function singular(list: string): string {
  return list.slice(0, -1);
}
