/**
 * From request records to committed rows, shared by the native and the OpenTelemetry routes:
 * each item is checked by the library's own validation (`prepareRecord`), the valid ones wait
 * in the ingest queue, and the answer says per item what became of it.
 */
import { toError } from "../core/errors.ts";
import type { RecordKind, StoredRecord } from "../core/rows.ts";
import { InvalidRecordError, KINDS, prepareRecord } from "../core/validate.ts";
import type { Pricer } from "../pricing/pricer.ts";
import type { IngestQueue, ItemStatus } from "./ingest-queue.ts";
import type { ServerMetrics } from "./metrics.ts";

/** One item to ingest: its kind and its fields in the shape of the matching `record*()` call. */
export interface IngestItem {
  kind: unknown;
  value: unknown;
}

export type ItemResult =
  | { status: "accepted" | "duplicate" }
  | { status: "invalid"; field: string | null; message: string }
  | { status: "refused"; message: string };

export type IngestOutcome =
  | { ok: true; results: ItemResult[]; accepted: number; duplicates: number; invalid: number; refused: number }
  | { ok: false; status: 429 | 503; retryAfterSeconds: number; message: string };

export interface Ingestor {
  ingest(items: readonly IngestItem[]): Promise<IngestOutcome>;
}

export function createIngestor(queue: IngestQueue, pricer: Pricer, metrics: ServerMetrics, now: () => number): Ingestor {
  return {
    async ingest(items) {
      const results: (ItemResult | null)[] = new Array(items.length).fill(null);
      const records: StoredRecord[] = [];
      const positions: number[] = [];
      const stamp = now();
      items.forEach((item, index) => {
        const kind = item.kind;
        if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) {
          results[index] = { status: "invalid", field: "kind", message: `kind must be one of ${KINDS.join(", ")}` };
          metrics.records.inc({ kind: "unknown", outcome: "invalid" });
          return;
        }
        const value = item.value as Record<string, unknown> | null;
        if (typeof value === "object" && value !== null && !Array.isArray(value) && value.id === undefined) {
          // A retry must find its records again: the producer names each one.
          results[index] = { status: "invalid", field: "id", message: "id is required (it makes retries count once)" };
          metrics.records.inc({ kind, outcome: "invalid" });
          return;
        }
        try {
          records.push(prepareRecord(kind as RecordKind, value, stamp, pricer));
          positions.push(index);
        } catch (error) {
          const field = error instanceof InvalidRecordError ? (error.field ?? null) : null;
          const message = error instanceof InvalidRecordError ? error.message : `record could not be read: ${toError(error).name}`;
          results[index] = { status: "invalid", field, message };
          metrics.records.inc({ kind, outcome: "invalid" });
        }
      });
      const submitted = await queue.submit(records);
      if (!submitted.ok) {
        metrics.turnedAway.inc({ reason: submitted.reason === "busy" ? "queue_full" : "store_unavailable" });
        return { ok: false, status: submitted.reason === "busy" ? 429 : 503, retryAfterSeconds: submitted.retryAfterSeconds, message: submitted.message };
      }
      submitted.statuses.forEach((status: ItemStatus, i) => {
        const record = records[i]!;
        metrics.records.inc({ kind: record.kind, outcome: status });
        results[positions[i]!] = status === "refused" ? { status, message: submitted.refusal ?? "the store refused this record" } : { status };
      });
      const final = results as ItemResult[];
      const count = (status: ItemResult["status"]) => final.reduce((n, r) => n + (r.status === status ? 1 : 0), 0);
      return { ok: true, results: final, accepted: count("accepted"), duplicates: count("duplicate"), invalid: count("invalid"), refused: count("refused") };
    },
  };
}
