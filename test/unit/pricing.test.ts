import { describe, expect, test } from "bun:test";
import { calcPrice } from "@pydantic/genai-prices";
import { createPricer, type PricedUsage } from "../../src/pricing/index.ts";

const at = Date.UTC(2026, 10, 20, 12);

function usage(overrides: Partial<PricedUsage>): PricedUsage {
  return { provider: "anthropic", model: "claude-sonnet-4-5", createdAt: at, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, ...overrides };
}

/** The library's own answer, given Anthropic token semantics converted to its own. */
function libraryPrice(u: PricedUsage): number | undefined {
  return calcPrice(
    { input_tokens: u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens, output_tokens: u.outputTokens, cache_read_tokens: u.cacheReadTokens, cache_write_tokens: u.cacheCreationTokens },
    u.model,
    { providerId: u.provider, timestamp: new Date(u.createdAt) },
  )?.total_price;
}

describe("pricing", () => {
  const models = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-opus-4-1", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-6", "claude-3-5-haiku-latest"];
  const shapes: Partial<PricedUsage>[] = [
    { inputTokens: 1200, outputTokens: 300 },
    { inputTokens: 10, outputTokens: 5000, cacheReadTokens: 90_000, cacheCreationTokens: 4000 },
    { inputTokens: 150_000, outputTokens: 1, cacheReadTokens: 49_999 },
    // Above the 200k input tier: the fast path must hand over to the library.
    { inputTokens: 180_000, outputTokens: 2000, cacheReadTokens: 30_000, cacheCreationTokens: 5000 },
    { inputTokens: 0, outputTokens: 0 },
  ];

  test("agrees with genai-prices to the last cent fraction for every model and usage shape", () => {
    const pricer = createPricer();
    let compared = 0;
    for (const model of models) {
      for (const shape of shapes) {
        const u = usage({ model, ...shape });
        const expected = libraryPrice(u);
        if (expected === undefined) continue;
        const got = pricer.price(u);
        expect(got.costSource).toBe("computed");
        expect(Math.abs(got.costUsd - expected)).toBeLessThan(1e-12);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(25);
  });

  test("prices that change on a date apply by the run's own day", () => {
    const pricer = createPricer();
    const before = usage({ model: "claude-opus-4-6", createdAt: Date.UTC(2026, 2, 12), inputTokens: 250_000, outputTokens: 100 });
    const after = { ...before, createdAt: Date.UTC(2026, 2, 14) };
    expect(pricer.price(before).costUsd).toBeCloseTo(libraryPrice(before)!, 12);
    expect(pricer.price(after).costUsd).toBeCloseTo(libraryPrice(after)!, 12);
  });

  test("a model the table does not know is unpriced with cost 0", () => {
    expect(createPricer().price(usage({ model: "our-private-model", inputTokens: 100 }))).toEqual({ costUsd: 0, costSource: "unpriced" });
    expect(createPricer().price(usage({ provider: "nobody-sells-this", inputTokens: 100 }))).toEqual({ costUsd: 0, costSource: "unpriced" });
  });

  test("custom prices, per model or per provider/model, win over the bundled table", () => {
    const pricer = createPricer({
      prices: {
        "claude-sonnet-4-5": { inputMtok: 1, outputMtok: 2, cacheReadMtok: 0.1, cacheWriteMtok: 1.5 },
        "openrouter/llama-x": { inputMtok: 0.5, outputMtok: 0.5 },
      },
    });
    const sonnet = pricer.price(usage({ inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 1_000_000, cacheCreationTokens: 1_000_000 }));
    expect(sonnet.costUsd).toBeCloseTo(1 + 2 + 0.1 + 1.5, 9);
    expect(pricer.price(usage({ provider: "openrouter", model: "llama-x", inputTokens: 2_000_000 })).costUsd).toBeCloseTo(1, 9);
    expect(pricer.price(usage({ provider: "other", model: "llama-x", inputTokens: 2_000_000 })).costSource).toBe("unpriced");
  });
});
