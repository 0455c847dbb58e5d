import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parsePriceMemo, serializePriceMemo } from "../../src/pricing/price-memo.ts";
import { createMemoizingPricer, loadPriceData, priceDataVersion } from "../../src/pricing/lazy-price-data.ts";
import { pricerOn, type PricedUsage } from "../../src/pricing/price-engine.ts";
import { createPricer } from "../../src/pricing/pricer.ts";

const ROOT = join(import.meta.dir, "../..");
const at = Date.UTC(2026, 10, 20, 12);

function usage(overrides: Partial<PricedUsage>): PricedUsage {
  return { provider: "anthropic", model: "claude-sonnet-4-5", createdAt: at, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, ...overrides };
}

const usages: PricedUsage[] = [
  usage({ inputTokens: 1200, outputTokens: 300 }),
  usage({ model: "claude-opus-4-1", inputTokens: 10, outputTokens: 5000, cacheReadTokens: 90_000, cacheCreationTokens: 4000 }),
  usage({ model: "claude-haiku-4-5", inputTokens: 150_000, outputTokens: 1, cacheReadTokens: 49_999 }),
  // Above the 200k input tier: a memo's linear price does not apply, the library must answer.
  usage({ inputTokens: 180_000, outputTokens: 2000, cacheReadTokens: 30_000, cacheCreationTokens: 5000 }),
  // Prices that change on a date: memoised per UTC day.
  usage({ model: "claude-opus-4-6", createdAt: Date.UTC(2026, 2, 12), inputTokens: 250_000, outputTokens: 100 }),
  usage({ model: "claude-opus-4-6", createdAt: Date.UTC(2026, 2, 14), inputTokens: 1000, outputTokens: 100 }),
  usage({ model: "our-private-model", inputTokens: 100 }),
];

/** Runs `code` in a fresh Bun process (nothing loaded yet) and returns what it prints, parsed. */
function inFreshProcess(code: string): unknown {
  const child = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, encoding: "utf8" });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout);
}

describe("price memo", () => {
  test("a pricer started from a memo prices exactly as one that read the price data", () => {
    const first = createMemoizingPricer(null);
    const expected = usages.map((u) => first.price(u));
    expect(first.learned).toBe(true);
    const memo = parsePriceMemo(serializePriceMemo(first.memo()!));
    expect(memo?.data).toBe(priceDataVersion());

    const second = createMemoizingPricer(memo);
    expect(usages.map((u) => second.price(u))).toEqual(expected);
    expect(second.learned).toBe(false);
    expect(expected.filter((p) => p.costSource === "computed").length).toBe(6);
    expect(expected.at(-1)).toEqual({ costUsd: 0, costSource: "unpriced" });
  });

  test("a model the memo does not cover is learned, and the new memo covers it", () => {
    const partial = createMemoizingPricer(null);
    partial.price(usages[0]!);
    const next = createMemoizingPricer(partial.memo());
    next.price(usages[1]!);
    expect(next.learned).toBe(true);
    expect(Object.keys(next.memo()!.entries).sort()).toEqual(["anthropic\u0000claude-opus-4-1", "anthropic\u0000claude-sonnet-4-5"]);
  });

  test("a memo from another version of the price data is ignored", () => {
    const made = createMemoizingPricer(null);
    made.price(usages[0]!);
    const stale = { ...made.memo()!, data: "genai-prices@0.0.1" };
    const fresh = createMemoizingPricer(stale);
    fresh.price(usages[0]!);
    expect(fresh.learned).toBe(true);
  });

  test("a wrong memo is no memo: garbage, wrong shapes and non-numbers parse to null", () => {
    const good = createMemoizingPricer(null);
    good.price(usages[0]!);
    const text = serializePriceMemo(good.memo()!);
    for (const bad of [undefined, null, 42, "", "{", "[]", '{"data":1,"entries":{}}', '{"data":"x","entries":[]}',
      text.replace('"fixed":0', '"fixed":"0"'), text.replace('"priced":true', '"priced":"yes"'), text.replace('"dated":false', '"dated":1')]) {
      expect(parsePriceMemo(bad)).toBeNull();
    }
    // A model without tiers is linear without limit: Infinity survives the round trip.
    const memo = parsePriceMemo(text)!;
    expect(Object.values(memo.entries).every((e) => !e.priced || e.linear === null || e.linear.belowInput > 0)).toBe(true);
  });

  test("custom prices make answers of their own: no memo is offered or taken", () => {
    const source = (memo: ReturnType<typeof parsePriceMemo>) => ({ load: loadPriceData, version: priceDataVersion(), memo });
    const prices = { "claude-sonnet-4-5": { inputMtok: 1, outputMtok: 2 } };
    const custom = pricerOn(source(null), { prices });
    custom.price(usages[0]!);
    expect(custom.memo()).toBeNull();
    const plain = createMemoizingPricer(null);
    plain.price(usages[0]!);
    const withCustom = pricerOn(source(plain.memo()), { prices });
    expect(withCustom.price(usages[0]!).costUsd).toBeCloseTo((1200 * 1 + 300 * 2) / 1e6, 12);
    // The eagerly loaded bundled pricer has no data version: it offers no memo either.
    const bundled = createPricer() as ReturnType<typeof pricerOn>;
    bundled.price(usages[0]!);
    expect(bundled.memo()).toBeNull();
  });

  test("with a memo, prices below the first tier never load the price data; above it, they do", () => {
    const made = createMemoizingPricer(null);
    made.price(usages[0]!);
    const memo = JSON.stringify(serializePriceMemo(made.memo()!));
    const script = (tokens: number) => `
      const { createMemoizingPricer } = await import("./src/pricing/lazy-price-data.ts");
      const { parsePriceMemo } = await import("./src/pricing/price-memo.ts");
      const pricer = createMemoizingPricer(parsePriceMemo(${memo}));
      const price = pricer.price({ provider: "anthropic", model: "claude-sonnet-4-5", createdAt: ${at}, inputTokens: ${tokens}, outputTokens: 300, cacheReadTokens: 0, cacheCreationTokens: 0 });
      const loaded = Object.keys(require.cache).some((k) => k.includes("genai-prices"));
      console.log(JSON.stringify({ price, loaded }));`;
    const below = inFreshProcess(script(1200)) as { price: unknown; loaded: boolean };
    expect(below).toEqual({ price: made.price(usages[0]!), loaded: false });
    const above = inFreshProcess(script(250_000)) as { price: { costUsd: number }; loaded: boolean };
    expect(above.loaded).toBe(true);
    expect(above.price.costUsd).toBeCloseTo(createPricer().price(usage({ inputTokens: 250_000, outputTokens: 300 })).costUsd, 12);
  });
});

describe("price memo size", () => {
  test("a memo keeps at most 5,000 entries, the newest", () => {
    const entries: Record<string, { priced: false }> = {};
    for (let i = 0; i < 6000; i++) entries[`anthropic\u0000model-${i}`] = { priced: false };
    const kept = parsePriceMemo(serializePriceMemo({ data: priceDataVersion(), entries }))!;
    const keys = Object.keys(kept.entries);
    expect(keys).toHaveLength(5000);
    expect(keys[0]).toBe("anthropic\u0000model-1000");
    expect(keys.at(-1)).toBe("anthropic\u0000model-5999");
  });
});
