/**
 * Cost computation for runs that did not report their own cost.
 * @module tally/pricing
 */
export { createPricer, defaultPricer, type Pricer, type PricerOptions, type PricedUsage } from "./pricer.ts";
export type { CustomPrice, CustomPrices } from "./custom-prices.ts";
