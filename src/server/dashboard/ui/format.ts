/**
 * How numbers read on the dashboard. The tests format the API's numbers with these same
 * functions and compare the page's text, so a cell can only show what the API answered.
 */
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A count: 12,345. */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** Dollars: cents from 10 cents up, four decimals below (agent runs often cost fractions of a cent). */
export function formatUsd(value: number): string {
  const digits = Math.abs(value) >= 0.1 || value === 0 ? 2 : 4;
  return `$${new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)}`;
}

/** A cost that leaves out unpriced runs carries a star (the page says how many). */
export function formatCost(value: number, unpricedRuns: number): string {
  return unpricedRuns > 0 ? `${formatUsd(value)}*` : formatUsd(value);
}

/** A share 0..1 as a percentage with one decimal; "–" when there is nothing to divide. */
export function formatShare(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "–" : `${(value * 100).toFixed(1)} %`;
}

/** A duration: 850 ms, 4.2 s, 3.5 min. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Change against the previous period, from two API answers: "+12.5 %", "new", "±0 %". */
export function formatChange(current: number | null, previous: number | null): string {
  if (current === null || previous === null) return "–";
  if (previous === 0) return current === 0 ? "±0 %" : "new";
  const change = (current - previous) / Math.abs(previous);
  if (Math.abs(change) < 0.0005) return "±0 %";
  return `${change > 0 ? "+" : "−"}${Math.abs(change * 100).toFixed(1)} %`;
}

/** Part over whole; null without a whole. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** An instant in the chosen zone: 2026-11-22 14:05:09. */
export function formatTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}
