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
  // Fields are named one by one: object rest and spread were ~30 % of a producer's CPU here.
  switch (record.kind) {
    case "execution": {
      const r = record.row;
      const wire: WireRecord = {
        kind: "execution", id: r.id, createdAt: r.createdAt, deliveryId: r.deliveryId, repo: r.repo, prNumber: r.prNumber,
        eventType: r.eventType, provider: r.provider, model: r.model, inputTokens: r.inputTokens, outputTokens: r.outputTokens,
        cacheReadTokens: r.cacheReadTokens, cacheCreationTokens: r.cacheCreationTokens, durationMs: r.durationMs,
        conclusion: r.conclusion, sessionId: r.sessionId, numTurns: r.numTurns, stopReason: r.stopReason, attributes: parsedAttributes(r.attributes),
      };
      if (r.costSource === "reported") wire.costUsd = r.costUsd;
      return wire;
    }
    case "rateLimitEvent": {
      const r = record.row;
      return {
        kind: "rateLimitEvent", id: r.id, createdAt: r.createdAt, deliveryId: r.deliveryId, eventType: r.eventType, repo: r.repo,
        prNumber: r.prNumber, executionId: r.executionId, resource: r.resource, limit: r.limit, remaining: r.remaining, resetAt: r.resetAt,
        retryAttempts: r.retryAttempts, skippedQueries: r.skippedQueries, degradation: r.degradation, attributes: parsedAttributes(r.attributes),
      };
    }
    case "toolCall": {
      const r = record.row;
      return {
        kind: "toolCall", id: r.id, createdAt: r.createdAt, sessionId: r.sessionId, executionId: r.executionId, server: r.server,
        toolName: r.toolName, durationMs: r.durationMs, outcome: r.outcome, errorType: r.errorType, inputBytes: r.inputBytes,
        outputBytes: r.outputBytes, attributes: parsedAttributes(r.attributes),
      };
    }
    case "sessionStart": {
      const r = record.row;
      return { kind: "sessionStart", id: r.id, startedAt: r.createdAt, source: r.source, client: { name: r.clientName, version: r.clientVersion } };
    }
    case "sessionEnd":
      return { kind: "sessionEnd", id: record.row.id, endedAt: record.row.endedAt };
    case "cacheEvent": {
      const r = record.row;
      return { kind: "cacheEvent", id: r.id, createdAt: r.createdAt, cache: r.cache, outcome: r.outcome, deliveryId: r.deliveryId, eventType: r.eventType, repo: r.repo };
    }
  }
}
