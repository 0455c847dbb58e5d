/**
 * What every store decides about a record whose id is stored already, from the stored row's
 * columns: is it a replay, another run handed the same id (a collision, named by field), or a
 * later snapshot of the same streamed response (which replaces the row and moves its rollups).
 */
import type { ExecutionRow } from "../core/rows.ts";
import type { RolledUpExecution } from "./rollup-sums.ts";

/** A stored execution's columns, as both stores read them (numbers may arrive as bigints or strings). */
export interface StoredExecution {
  created_at: number;
  repo: string;
  event_type: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  duration_ms: number;
  cost_usd: number;
  cost_source: ExecutionRow["costSource"];
  conclusion: string;
  stop_reason: string | null;
}

/** The stored row as its rollups counted it. */
export function rolledUp(stored: StoredExecution): RolledUpExecution {
  return {
    createdAt: Number(stored.created_at), repo: stored.repo, eventType: stored.event_type, provider: stored.provider,
    model: stored.model, conclusion: stored.conclusion, inputTokens: Number(stored.input_tokens), outputTokens: Number(stored.output_tokens),
    cacheReadTokens: Number(stored.cache_read_tokens), cacheCreationTokens: Number(stored.cache_creation_tokens),
    costUsd: Number(stored.cost_usd), costSource: stored.cost_source, durationMs: Number(stored.duration_ms),
  };
}

/**
 * What the rollups count once `next` replaces the stored snapshot `before`: the new usage and
 * cost, at the first snapshot's time (a response never moves to another hour or day).
 */
export function replacedSnapshot(before: RolledUpExecution, next: ExecutionRow): RolledUpExecution {
  return {
    ...before, model: next.model, inputTokens: next.inputTokens, outputTokens: next.outputTokens, cacheReadTokens: next.cacheReadTokens,
    cacheCreationTokens: next.cacheCreationTokens, costUsd: next.costUsd, costSource: next.costSource,
  };
}

/**
 * The fields that say what a run was: a record with a stored id that differs in one of them
 * is not a replay but most likely another run that was handed the same id.
 */
export const EXECUTION_IDENTITY = [
  ["model", "model"], ["inputTokens", "input_tokens"], ["outputTokens", "output_tokens"], ["cacheReadTokens", "cache_read_tokens"],
  ["cacheCreationTokens", "cache_creation_tokens"], ["costUsd", "cost_usd"], ["conclusion", "conclusion"],
] as const satisfies readonly (readonly [keyof ExecutionRow, keyof StoredExecution])[];

export const TOOL_CALL_IDENTITY = [["server", "server"], ["toolName", "tool_name"], ["outcome", "outcome"]] as const;

/** The first field (by the record's name) in which `row` differs from `stored`, or null. */
export function differingField<R, S>(row: R, stored: S, fields: readonly (readonly [keyof R & string, keyof S])[]): string | null {
  for (const [name, column] of fields) {
    const a = row[name] as unknown;
    const b = stored[column] as unknown;
    if (a !== b && !(typeof a === "number" && Number(b) === a)) return name;
  }
  return null;
}
