import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pricerOn, type MemoizingPricer, type PriceData, type PriceMemo } from "./price-engine.ts";

const requireHere = createRequire(import.meta.url);
let data: PriceData | undefined;
let version: string | undefined;

/**
 * The price data, loaded on first use: evaluating it takes ~45 ms under Bun, which a short
 * command whose models' prices are in a memo should not pay. (The package's CommonJS build:
 * the one both runtimes load synchronously.)
 */
export function loadPriceData(): PriceData {
  return (data ??= requireHere("@pydantic/genai-prices") as PriceData);
}

/** The installed genai-prices version, read without loading its data: a memo is valid for it only. */
export function priceDataVersion(): string {
  if (version === undefined) {
    const main = requireHere.resolve("@pydantic/genai-prices");
    const manifest = JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")) as { version?: unknown };
    version = `genai-prices@${String(manifest.version)}`;
  }
  return version;
}

/**
 * A pricer on the bundled prices that loads them only when a price needs them: the models in
 * `memo` (from an earlier run's `pricer.memo()`, same data version) are priced without.
 */
export function createMemoizingPricer(memo: PriceMemo | null): MemoizingPricer {
  return pricerOn({ load: loadPriceData, version: priceDataVersion(), memo });
}
