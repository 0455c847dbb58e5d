import { calcPrice, type ModelPrice, type PriceCalculation, type Provider, type Usage } from "@pydantic/genai-prices";
import type { CostSource } from "../core/rows.ts";
import { customPriceProviders, type CustomPrices } from "./custom-prices.ts";

/** The token counts of one run, Anthropic semantics (input excludes cache). */
export interface PricedUsage {
  provider: string;
  model: string;
  createdAt: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** Prices runs that did not report their cost. */
export interface Pricer {
  price(usage: PricedUsage): { costUsd: number; costSource: CostSource };
}

export interface PricerOptions {
  /** Prices to add or override; see {@link CustomPrices}. */
  prices?: CustomPrices;
}

const DAY_MS = 86_400_000;

/**
 * What is known about one (provider, model[, day]): either unpriced, or a provider narrowed
 * to the one matching model (so calcPrice skips the search of every model), plus, when the
 * price is linear below some input size, per-million-token coefficients that make the common
 * case a few multiplications instead of a ~45 µs calcPrice call.
 */
type PriceEntry =
  | { priced: false }
  | { priced: true; provider: Provider; modelId: string; linear: LinearPrice | null };

interface LinearPrice {
  fixed: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** The price is linear while total input (input + cache) stays below this. */
  belowInput: number;
}

const UNPRICED = { costUsd: 0, costSource: "unpriced" as const };

/**
 * Computes costs with `@pydantic/genai-prices` (bundled data, no network). An unknown model
 * is `unpriced`, never a silent $0 price.
 */
export function createPricer(options: PricerOptions = {}): Pricer {
  const custom = customPriceProviders(options.prices ?? {});
  const entries = new Map<string, PriceEntry>();

  function customProviderFor(provider: string, model: string): Provider | undefined {
    const lowerModel = model.toLowerCase();
    return custom.get(`${provider.toLowerCase()}/${lowerModel}`) ?? custom.get(lowerModel);
  }

  function resolve(provider: string, model: string, at: Date): PriceEntry {
    const customProvider = customProviderFor(provider, model);
    const probe = customProvider
      ? calcPrice({}, model, { provider: customProvider, timestamp: at })
      : calcPrice({}, model, { providerId: provider, timestamp: at });
    if (!probe) return { priced: false };
    const narrowed: Provider = { ...probe.provider, models: [probe.model], fallback_model_providers: undefined };
    return { priced: true, provider: narrowed, modelId: model, linear: linearise(narrowed, model, at, probe) };
  }

  function entryFor(usage: PricedUsage): PriceEntry {
    const base = `${usage.provider}\u0000${usage.model}`;
    let entry = entries.get(base);
    if (entry === undefined) {
      entry = resolve(usage.provider, usage.model, new Date(usage.createdAt));
      entries.set(base, entry);
    }
    if (!entry.priced || !Array.isArray(entry.provider.models[0]?.prices)) return entry;
    // Prices that change on a start date are constant within a UTC day.
    const dayKey = `${base}\u0000${Math.floor(usage.createdAt / DAY_MS)}`;
    let dayEntry = entries.get(dayKey);
    if (dayEntry === undefined) {
      dayEntry = resolve(usage.provider, usage.model, new Date(usage.createdAt));
      entries.set(dayKey, dayEntry);
    }
    return dayEntry;
  }

  return {
    price(usage) {
      try {
        const entry = entryFor(usage);
        if (!entry.priced) return UNPRICED;
        const totalInput = usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
        const linear = entry.linear;
        if (linear && totalInput < linear.belowInput) {
          const costUsd =
            linear.fixed +
            (usage.inputTokens * linear.input +
              usage.outputTokens * linear.output +
              usage.cacheReadTokens * linear.cacheRead +
              usage.cacheCreationTokens * linear.cacheWrite) /
              1e6;
          return { costUsd, costSource: "computed" };
        }
        const result = calcPrice(toLibraryUsage(usage), entry.modelId, {
          provider: entry.provider,
          timestamp: new Date(usage.createdAt),
        });
        return result ? { costUsd: result.total_price, costSource: "computed" } : UNPRICED;
      } catch {
        return UNPRICED;
      }
    },
  };
}

/** genai-prices counts cache tokens inside input_tokens; Tally (like Anthropic) does not. */
function toLibraryUsage(usage: Omit<PricedUsage, "provider" | "model" | "createdAt">): Usage {
  return {
    input_tokens: usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens,
    output_tokens: usage.outputTokens,
    cache_read_tokens: usage.cacheReadTokens,
    cache_write_tokens: usage.cacheCreationTokens,
  };
}

/**
 * Reads off per-token coefficients by asking the library for unit usages, when the model's
 * price is linear: no time-of-day constraint, and tiers only above some input size.
 */
function linearise(provider: Provider, model: string, at: Date, probe: PriceCalculation): LinearPrice | null {
  const info = provider.models[0];
  if (!info) return null;
  const periods = Array.isArray(info.prices) ? info.prices : [{ prices: info.prices }];
  if (periods.some((p) => "constraint" in p && p.constraint?.type === "time_of_date")) return null;
  const belowInput = lowestTierStart(periods.map((p) => p.prices));
  // Probe with a small unit so that no probe crosses a tier (Claude's start at 200k input).
  const unit = 1000;
  const perMillion = 1_000_000 / unit;
  const cost = (usage: Omit<PricedUsage, "provider" | "model" | "createdAt">) =>
    calcPrice(toLibraryUsage(usage), model, { provider, timestamp: at })?.total_price;
  const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  const fixed = probe.total_price;
  const input = cost({ ...zero, inputTokens: unit });
  const output = cost({ ...zero, outputTokens: unit });
  const cacheRead = cost({ ...zero, cacheReadTokens: unit });
  const cacheWrite = cost({ ...zero, cacheCreationTokens: unit });
  if (input === undefined || output === undefined || cacheRead === undefined || cacheWrite === undefined) return null;
  if (belowInput <= unit) return null;
  return {
    fixed,
    input: (input - fixed) * perMillion,
    output: (output - fixed) * perMillion,
    cacheRead: (cacheRead - fixed) * perMillion,
    cacheWrite: (cacheWrite - fixed) * perMillion,
    belowInput,
  };
}

function lowestTierStart(prices: ModelPrice[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const price of prices) {
    for (const value of Object.values(price)) {
      if (typeof value === "object" && value !== null) {
        for (const tier of value.tiers) lowest = Math.min(lowest, tier.start);
      }
    }
  }
  return lowest;
}

/** The pricer used when none is given: bundled prices only. */
export const defaultPricer: Pricer = createPricer();

