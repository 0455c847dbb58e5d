import type { ModelPrice, PriceCalculation, Provider, Usage } from "@pydantic/genai-prices";
import type { CostSource } from "../core/rows.ts";
import { customPriceProviders, type CustomPrices } from "./custom-prices.ts";
import { DAY_MS } from "../core/time-units.ts";

/** The genai-prices module: the engine is handed it (eagerly imported, or loaded on first use). */
export type PriceData = typeof import("@pydantic/genai-prices");

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

/** Where the engine gets the price data, and which memo it may trust. */
export interface PriceDataSource {
  /** The genai-prices module; called only when a price needs the data. */
  load(): PriceData;
  /** The data's version (e.g. `genai-prices@0.1.8`) when memos are supported, else null. */
  version: string | null;
  /**
   * What a pricer of an earlier run learned (see {@link MemoizingPricer.memo}): for the models
   * it covers, prices below the first tier come from it without loading the price data. Ignored
   * when it was made from another version of the data, or when custom prices are given.
   */
  memo?: PriceMemo | null;
}

/** A pricer that can say what it learned, for the next run's {@link PricerOptions.memo}. */
export interface MemoizingPricer extends Pricer {
  /** What it knows now; null when custom prices make its answers its own, or the data has no version. */
  memo(): PriceMemo | null;
  /** True once it knows something the memo it was given did not. */
  readonly learned: boolean;
}

/**
 * Per-model answers of the price data, keyed by provider and model (and UTC day, for prices
 * that change on a date): unpriced, or linear coefficients, or "ask the library" (null).
 */
export interface PriceMemo {
  /** The price data's version, e.g. `genai-prices@0.1.8`. */
  data: string;
  entries: Record<string, MemoEntry>;
}

export type MemoEntry = { priced: false } | { priced: true; dated: boolean; linear: LinearPrice | null };

export interface LinearPrice {
  fixed: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** The price is linear while total input (input + cache) stays below this. */
  belowInput: number;
}


/**
 * What is known about one (provider, model[, day]): unpriced, or priced with, when the price
 * is linear below some input size, per-million-token coefficients that make the common case a
 * few multiplications instead of a ~45 µs calcPrice call; `provider` is the library's provider
 * narrowed to the one matching model (so calcPrice skips the search of every model), absent
 * while the entry comes from a memo and no price needed the library.
 */
type PriceEntry =
  | { priced: false }
  | { priced: true; dated: boolean; linear: LinearPrice | null; provider?: Provider };

const UNPRICED = { costUsd: 0, costSource: "unpriced" as const };

/**
 * Computes costs with `@pydantic/genai-prices` (bundled data, no network). An unknown model
 * is `unpriced`, never a silent $0 price. (`createPricer` is this on the eagerly imported data.)
 */
export function pricerOn(source: PriceDataSource, options: PricerOptions = {}): MemoizingPricer {
  const custom = customPriceProviders(options.prices ?? {});
  const hasCustomPrices = custom.size > 0;
  const entries = new Map<string, PriceEntry>();
  const memo = source.memo;
  const trusted = memo != null && !hasCustomPrices && source.version !== null && memo.data === source.version;
  const remembered: Record<string, MemoEntry> = trusted ? memo.entries : {};
  let learned = false;

  function customProviderFor(provider: string, model: string): Provider | undefined {
    const lowerModel = model.toLowerCase();
    return custom.get(`${provider.toLowerCase()}/${lowerModel}`) ?? custom.get(lowerModel);
  }

  function resolve(provider: string, model: string, at: Date): PriceEntry {
    const { calcPrice } = source.load();
    const customProvider = customProviderFor(provider, model);
    const probe = customProvider
      ? calcPrice({}, model, { provider: customProvider, timestamp: at })
      : calcPrice({}, model, { providerId: provider, timestamp: at });
    if (!probe) return { priced: false };
    const narrowed: Provider = { ...probe.provider, models: [probe.model], fallback_model_providers: undefined };
    const dated = Array.isArray(narrowed.models[0]?.prices);
    return { priced: true, dated, provider: narrowed, linear: linearise(calcPrice, narrowed, model, at, probe) };
  }

  function lookup(key: string, usage: PricedUsage): PriceEntry {
    let entry = entries.get(key);
    if (entry === undefined) {
      const known = Object.hasOwn(remembered, key) ? remembered[key] : undefined;
      if (known !== undefined) entry = { ...known };
      else {
        entry = resolve(usage.provider, usage.model, new Date(usage.createdAt));
        learned = true;
      }
      entries.set(key, entry);
    }
    return entry;
  }

  function entryFor(usage: PricedUsage): PriceEntry {
    const base = `${usage.provider}\u0000${usage.model}`;
    const resolvedNow = !entries.has(base) && !Object.hasOwn(remembered, base);
    const entry = lookup(base, usage);
    if (!entry.priced || !entry.dated) return entry;
    // Prices that change on a start date are constant within a UTC day; an entry just
    // resolved for this run's time already is this day's.
    const dayKey = `${base}\u0000${Math.floor(usage.createdAt / DAY_MS)}`;
    if (resolvedNow && !entries.has(dayKey)) entries.set(dayKey, entry);
    return lookup(dayKey, usage);
  }

  /** The library's provider for an entry that came from a memo, resolved once. */
  function providerOf(entry: Extract<PriceEntry, { priced: true }>, usage: PricedUsage): Provider | null {
    if (entry.provider === undefined) {
      const resolved = resolve(usage.provider, usage.model, new Date(usage.createdAt));
      if (!resolved.priced || resolved.provider === undefined) return null;
      entry.provider = resolved.provider;
    }
    return entry.provider;
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
        const provider = providerOf(entry, usage);
        if (provider === null) return UNPRICED;
        const result = source.load().calcPrice(toLibraryUsage(usage), usage.model, { provider, timestamp: new Date(usage.createdAt) });
        return result ? { costUsd: result.total_price, costSource: "computed" } : UNPRICED;
      } catch {
        return UNPRICED;
      }
    },

    memo() {
      if (hasCustomPrices || source.version === null) return null;
      const memoEntries: Record<string, MemoEntry> = { ...remembered };
      for (const [key, entry] of entries) {
        memoEntries[key] = entry.priced ? { priced: true, dated: entry.dated, linear: entry.linear } : { priced: false };
      }
      return { data: source.version, entries: memoEntries };
    },

    get learned() {
      return learned;
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
function linearise(calcPrice: PriceData["calcPrice"], provider: Provider, model: string, at: Date, probe: PriceCalculation): LinearPrice | null {
  const info = provider.models[0];
  if (!info) return null;
  const periods = Array.isArray(info.prices) ? info.prices : [{ prices: info.prices }];
  if (periods.some((p) => "constraint" in p && p.constraint?.type === "time_of_date")) return null;
  const belowInput = lowestTierStart(periods.map((p) => p.prices));
  // Probe with a small unit so that no probe crosses a tier (Claude's start at 200k input).
  const unit = 1000;
  if (belowInput <= unit) return null;
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

