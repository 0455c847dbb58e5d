import type { LinearPrice, MemoEntry, PriceMemo } from "./price-engine.ts";

/** Entries kept at most: a memo is a cache of a few models' prices, never a growing log. */
const MAX_ENTRIES = 5000;

const COEFFICIENTS = ["fixed", "input", "output", "cacheRead", "cacheWrite"] as const;

/**
 * The memo as text for storage; `belowInput: Infinity` (no tiers) is written as null. Past
 * {@link MAX_ENTRIES} (per-day entries of dated prices add up) the newest are kept.
 */
export function serializePriceMemo(memo: PriceMemo): string {
  const entries = Object.entries(memo.entries).slice(-MAX_ENTRIES);
  return JSON.stringify({ data: memo.data, entries: Object.fromEntries(entries) }, (key, value: unknown) =>
    key === "belowInput" && value === Number.POSITIVE_INFINITY ? null : value,
  );
}

/**
 * A memo read back from storage, or null when there is none or it is not one (a memo is only
 * a cache: anything unexpected means "ask the price data", never an error or a wrong price).
 */
export function parsePriceMemo(text: unknown): PriceMemo | null {
  if (typeof text !== "string" || text.length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.data !== "string" || !isObject(value.entries)) return null;
  const entries: Record<string, MemoEntry> = {};
  for (const [key, raw] of Object.entries(value.entries).slice(0, MAX_ENTRIES)) {
    const entry = memoEntry(raw);
    if (entry === null) return null;
    entries[key] = entry;
  }
  return { data: value.data, entries };
}

function memoEntry(raw: unknown): MemoEntry | null {
  if (!isObject(raw)) return null;
  if (raw.priced === false) return { priced: false };
  if (raw.priced !== true || typeof raw.dated !== "boolean") return null;
  if (raw.linear === null) return { priced: true, dated: raw.dated, linear: null };
  const linear = linearPrice(raw.linear);
  return linear === null ? null : { priced: true, dated: raw.dated, linear };
}

function linearPrice(raw: unknown): LinearPrice | null {
  if (!isObject(raw)) return null;
  for (const name of COEFFICIENTS) {
    const n = raw[name];
    if (typeof n !== "number" || !Number.isFinite(n)) return null;
  }
  const below = raw.belowInput === null ? Number.POSITIVE_INFINITY : raw.belowInput;
  if (typeof below !== "number" || !(below > 0)) return null;
  const c = raw as Record<(typeof COEFFICIENTS)[number], number>;
  return { fixed: c.fixed, input: c.input, output: c.output, cacheRead: c.cacheRead, cacheWrite: c.cacheWrite, belowInput: below };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
