/**
 * Reading the few attributes the mapping uses. Producers disagree on types (Claude Code sends
 * numbers as strings), so numbers may be numeric strings. Messages name the attribute, never
 * its value.
 */
import type { Attributes } from "./types.ts";

/** An item that cannot become a record; its message names the attribute at fault. */
export class ItemRejected extends Error {
  override readonly name = "ItemRejected";
}

/** The first of `keys` that holds a non-empty string. */
export function firstText(attributes: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = attributes.get(key);
    if (typeof value === "string" && value.length > 0) return value;
  }
  return undefined;
}

const DECIMAL = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A non-negative number (a count, a duration, a cost) under `key`, as a number or a decimal
 * string; undefined when absent. Anything else (an integer beyond 2^53, an array, text)
 * rejects the item: a count that cannot be read must not be stored as 0.
 */
export function amount(attributes: Attributes, key: string): number | undefined {
  const value = attributes.get(key);
  if (value === undefined || value === "") return undefined;
  const parsed = typeof value === "number" ? value : typeof value === "string" && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > Number.MAX_SAFE_INTEGER) {
    throw new ItemRejected(`${key} must be a non-negative number`);
  }
  return parsed;
}

/** The first of `keys` that holds an amount (see {@link amount}). */
export function firstAmount(attributes: Attributes, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = amount(attributes, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A boolean under `key`, as a boolean or the strings `true` / `false`; undefined otherwise. */
export function flag(attributes: Attributes, key: string): boolean | undefined {
  const value = attributes.get(key);
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** A string or an integer under `key`, as text (for ids built from it); undefined otherwise. */
export function idPart(attributes: Attributes, key: string): string | undefined {
  const value = attributes.get(key);
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

