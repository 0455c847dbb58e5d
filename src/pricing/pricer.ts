import * as genaiPrices from "@pydantic/genai-prices";
import { pricerOn, type Pricer, type PricerOptions } from "./price-engine.ts";

export type { MemoizingPricer, PricedUsage, Pricer, PricerOptions } from "./price-engine.ts";

/** The bundled price data, imported with this module: a service pays its loading at start-up. */
const bundled = { load: () => genaiPrices, version: null };

/**
 * Computes costs with `@pydantic/genai-prices` (bundled data, no network). An unknown model
 * is `unpriced`, never a silent $0 price.
 */
export function createPricer(options: PricerOptions = {}): Pricer {
  return pricerOn(bundled, options);
}

/** The pricer used when none is given: bundled prices only. */
export const defaultPricer: Pricer = createPricer();
