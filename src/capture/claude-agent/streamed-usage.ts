/**
 * Tokens of a run that has not reached its `result` yet, from the assistant messages streamed
 * so far: each API response counted once (the SDK sends one assistant message per content
 * block, all with the response's id; the one with the most output tokens is the latest
 * snapshot). Only used when a run ends without its result (shutdown, cancel, error).
 */
import { isLaterSnapshot } from "../../core/snapshot.ts";

export interface SeenTokens {
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

interface Snapshot {
  model: string | undefined;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  stopReason: string | null;
}

const count = (value: unknown) => (typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0);

/** Responses seen in the open run, by message id; bounded, as everything held per run. */
export class StreamedUsage {
  private readonly responses = new Map<string, Snapshot>();
  private static readonly MAX_RESPONSES = 10_000;

  /** Reads an `assistant` message's response id, model and usage; anything else is ignored. */
  observe(message: Record<string, unknown>): void {
    const inner = message.message as { id?: unknown; model?: unknown; usage?: Record<string, unknown>; stop_reason?: unknown } | undefined;
    if (typeof inner !== "object" || inner === null || typeof inner.id !== "string" || typeof inner.usage !== "object" || inner.usage === null) return;
    const usage = inner.usage;
    const next: Snapshot = {
      model: typeof inner.model === "string" ? inner.model : undefined,
      input: count(usage.input_tokens),
      output: count(usage.output_tokens),
      cacheRead: count(usage.cache_read_input_tokens),
      cacheCreation: count(usage.cache_creation_input_tokens),
      stopReason: typeof inner.stop_reason === "string" ? inner.stop_reason : null,
    };
    const kept = this.responses.get(inner.id);
    if (kept === undefined && this.responses.size >= StreamedUsage.MAX_RESPONSES) return;
    if (kept === undefined || isLaterSnapshot({ outputTokens: next.output, stopReason: next.stopReason }, { outputTokens: kept.output, stopReason: kept.stopReason })) {
      this.responses.set(inner.id, next);
    }
  }

  /** A new run starts: what was seen belongs to the previous one. */
  reset(): void {
    this.responses.clear();
  }

  /** The sums so far, and the model of the latest response; null when nothing was seen. */
  totals(): SeenTokens | null {
    if (this.responses.size === 0) return null;
    const totals: SeenTokens = { model: undefined, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    for (const snapshot of this.responses.values()) {
      totals.model = snapshot.model ?? totals.model;
      totals.inputTokens += snapshot.input;
      totals.outputTokens += snapshot.output;
      totals.cacheReadTokens += snapshot.cacheRead;
      totals.cacheCreationTokens += snapshot.cacheCreation;
    }
    return totals;
  }
}
