import type { ModelInfo, Provider } from "@pydantic/genai-prices";

/** A price you set yourself, in USD per million tokens. */
export interface CustomPrice {
  inputMtok: number;
  outputMtok: number;
  cacheReadMtok?: number;
  cacheWriteMtok?: number;
}

/**
 * Prices that add to or override the bundled table, keyed by model id (matched exactly,
 * case-insensitively). A key may be `provider/model` to apply to one provider only.
 */
export type CustomPrices = Record<string, CustomPrice>;

/** Turns custom prices into genai-prices providers, so the library still does the arithmetic. */
export function customPriceProviders(prices: CustomPrices): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const [key, price] of Object.entries(prices)) {
    const model: ModelInfo = {
      id: key,
      match: { equals: key.includes("/") ? key.slice(key.indexOf("/") + 1) : key },
      prices: {
        input_mtok: price.inputMtok,
        output_mtok: price.outputMtok,
        cache_read_mtok: price.cacheReadMtok,
        cache_write_mtok: price.cacheWriteMtok,
      },
    };
    providers.set(key.toLowerCase(), { id: "custom", name: "custom prices", api_pattern: "^$", models: [model] });
  }
  return providers;
}
