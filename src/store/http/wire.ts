/**
 * Stored records back into the shapes of the library's `record*()` calls, as `POST /v1/batch`
 * takes them. A cost the producer reported travels; a cost Tally computed does not (the server
 * prices with its own table, so `cost_source` stays `computed` or `unpriced`, never a silent $0).
 */
import type { StoredRecord } from "../../core/rows.ts";

export type WireRecord = Record<string, unknown> & { kind: StoredRecord["kind"] };

function parsedAttributes(json: string | null): unknown {
  if (json === null) return null;
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export function toWireRecord(record: StoredRecord): WireRecord {
  switch (record.kind) {
    case "execution": {
      const { costUsd, costSource, attributes, ...row } = record.row;
      return { kind: "execution", ...row, ...(costSource === "reported" ? { costUsd } : {}), attributes: parsedAttributes(attributes) };
    }
    case "rateLimitEvent":
    case "toolCall": {
      const { attributes, ...row } = record.row;
      return { kind: record.kind, ...row, attributes: parsedAttributes(attributes) };
    }
    case "sessionStart": {
      const { id, createdAt, source, clientName, clientVersion } = record.row;
      return { kind: "sessionStart", id, startedAt: createdAt, source, client: { name: clientName, version: clientVersion } };
    }
    case "sessionEnd":
      return { kind: "sessionEnd", id: record.row.id, endedAt: record.row.endedAt };
    case "cacheEvent":
      return { kind: "cacheEvent", ...record.row };
  }
}
