/**
 * Token totals from the result message's `modelUsage` (per model, subagents included,
 * Anthropic semantics: input excludes cache reads and writes), and the increase between two
 * cumulative results of a streaming-input session.
 */

/** Tokens of one model, or of a whole run. */
export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** Totals per model name, in the order the SDK listed them. */
export type UsageByModel = Map<string, TokenTotals>;

const NONE: TokenTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };

function tokens(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Reads `modelUsage` defensively: a missing map is empty, a missing or odd count is 0. */
export function readModelUsage(modelUsage: unknown): UsageByModel {
  const byModel: UsageByModel = new Map();
  if (typeof modelUsage !== "object" || modelUsage === null) return byModel;
  for (const [model, usage] of Object.entries(modelUsage as Record<string, unknown>)) {
    if (typeof usage !== "object" || usage === null) continue;
    const u = usage as Record<string, unknown>;
    byModel.set(model, {
      inputTokens: tokens(u.inputTokens),
      outputTokens: tokens(u.outputTokens),
      cacheReadTokens: tokens(u.cacheReadInputTokens),
      cacheCreationTokens: tokens(u.cacheCreationInputTokens),
    });
  }
  return byModel;
}

/**
 * `current − previous` per model, or null when any total went down: the session's running
 * totals were reset (a mid-session `/clear`), so `current` counts from zero again.
 */
export function usageIncrease(current: UsageByModel, previous: UsageByModel): UsageByModel | null {
  const increase: UsageByModel = new Map();
  for (const [model, before] of previous) if (!current.has(model) && total(before) > 0) return null;
  for (const [model, now] of current) {
    const before = previous.get(model) ?? NONE;
    const d: TokenTotals = {
      inputTokens: now.inputTokens - before.inputTokens,
      outputTokens: now.outputTokens - before.outputTokens,
      cacheReadTokens: now.cacheReadTokens - before.cacheReadTokens,
      cacheCreationTokens: now.cacheCreationTokens - before.cacheCreationTokens,
    };
    if (d.inputTokens < 0 || d.outputTokens < 0 || d.cacheReadTokens < 0 || d.cacheCreationTokens < 0) return null;
    increase.set(model, d);
  }
  return increase;
}

function total(t: TokenTotals): number {
  return t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheCreationTokens;
}

/** The sum over all models. */
export function sumUsage(byModel: UsageByModel): TokenTotals {
  const sum = { ...NONE };
  for (const t of byModel.values()) {
    sum.inputTokens += t.inputTokens;
    sum.outputTokens += t.outputTokens;
    sum.cacheReadTokens += t.cacheReadTokens;
    sum.cacheCreationTokens += t.cacheCreationTokens;
  }
  return sum;
}

/**
 * The model that did most of the work: most output tokens, then most tokens of any kind;
 * the first listed wins a tie. Undefined when no model used a token.
 */
export function primaryModel(byModel: UsageByModel): string | undefined {
  let best: string | undefined;
  let bestOutput = -1;
  let bestTotal = 0;
  for (const [model, t] of byModel) {
    const all = total(t);
    if (all === 0) continue;
    if (t.outputTokens > bestOutput || (t.outputTokens === bestOutput && all > bestTotal)) {
      best = model;
      bestOutput = t.outputTokens;
      bestTotal = all;
    }
  }
  return best;
}
