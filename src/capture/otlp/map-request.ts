/**
 * One OTLP export request → Tally records, with the counts its response reports. Each record
 * is checked with the library's own rules (`prepareRecord`) here, so a record Tally would drop
 * at flush is rejected now, in the producer's partial-success answer, instead of vanishing.
 */
import type { Pricer } from "../../pricing/pricer.ts";
import { InvalidRecordError, prepareRecord } from "../../core/validate.ts";
import { decodeJson } from "./decode-json.ts";
import { decodeProtobuf } from "./decode-protobuf.ts";
import { mapLogRecord } from "./map-claude-code.ts";
import { mapSpan } from "./map-span.ts";
import { ItemRejected } from "./read-attributes.ts";
import {
  type DecodedItem,
  type DecodedRequest,
  type ItemContext,
  type MappedRecord,
  type OtlpEncoding,
  type OtlpMapping,
  type OtlpSignal,
  OtlpDecodeError,
} from "./types.ts";

const SIGNALS: readonly OtlpSignal[] = ["traces", "logs", "metrics"];
const ENCODINGS: readonly OtlpEncoding[] = ["protobuf", "json"];
const ITEM_NOUNS: Record<OtlpSignal, string> = { traces: "span", logs: "log record", metrics: "data point" };

/**
 * Decodes an OTLP/HTTP request body (already decompressed) and maps it to Tally records.
 * Throws OtlpDecodeError for a malformed body, and nothing else, whatever the bytes: an item
 * that cannot be used is counted in `rejected`, one that is deliberately not recorded in `ignored`.
 */
export function mapOtlpRequest(signal: OtlpSignal, encoding: OtlpEncoding, body: Uint8Array): OtlpMapping {
  let request: DecodedRequest;
  try {
    if (!SIGNALS.includes(signal)) throw new OtlpDecodeError("unknown OTLP signal");
    if (!ENCODINGS.includes(encoding)) throw new OtlpDecodeError("unknown OTLP encoding");
    if (!(body instanceof Uint8Array)) throw new OtlpDecodeError("body must be bytes");
    request = encoding === "protobuf" ? decodeProtobuf(signal, body) : decodeJson(signal, body);
  } catch (error) {
    if (error instanceof OtlpDecodeError) throw error;
    // E.g. a parser's stack or memory limit: the body, not the caller, is at fault.
    throw new OtlpDecodeError("body could not be decoded");
  }
  switch (request.signal) {
    case "traces":
      return mapItems(request.signal, request.items, mapSpan);
    case "logs":
      return mapItems(request.signal, request.items, mapLogRecord);
    case "metrics":
      // Claude Code's metrics (cost, tokens) repeat its api_request events; other metrics have
      // no place in Tally's tables. Data points are decoded, counted and ignored.
      return mapItems(request.signal, request.items, () => null);
  }
}

function mapItems<T>(
  signal: OtlpSignal,
  items: DecodedItem<T>[],
  map: (value: T, context: ItemContext) => MappedRecord | null,
): OtlpMapping {
  const records: MappedRecord[] = [];
  let rejected = 0;
  let ignored = 0;
  let firstProblem: string | null = null;
  const reject = (problem: string) => {
    rejected++;
    firstProblem ??= problem;
  };
  for (const item of items) {
    if (!item.ok) {
      reject(item.problem);
      continue;
    }
    try {
      const record = map(item.value, item);
      if (record === null) {
        ignored++;
        continue;
      }
      prepareRecord(record.kind, record.value, 0, UNPRICED);
      records.push(record);
    } catch (error) {
      // These two name the attribute or field, never its value; anything else is a bug of
      // ours, and its message is not passed on.
      const named = error instanceof ItemRejected || error instanceof InvalidRecordError;
      reject(named ? error.message : `${ITEM_NOUNS[signal]} could not be mapped`);
    }
  }
  const noun = ITEM_NOUNS[signal];
  const errorMessage = firstProblem === null ? null : `${rejected} ${noun}${rejected === 1 ? "" : "s"} rejected; first: ${firstProblem}`;
  return { records, rejected, errorMessage, ignored };
}

/** Validation only: the record is priced when it is flushed, not here. */
const UNPRICED: Pricer = { price: () => ({ costUsd: 0, costSource: "unpriced" }) };

