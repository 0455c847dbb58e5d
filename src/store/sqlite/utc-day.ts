import { DAY_MS } from "../../core/time-units.ts";
const cache = new Map<number, string>();

/** The UTC calendar day (`YYYY-MM-DD`) of an epoch-ms instant; memoised, as rows cluster on few days. */
export function utcDay(epochMs: number): string {
  const dayNumber = Math.floor(epochMs / DAY_MS);
  let day = cache.get(dayNumber);
  if (day === undefined) {
    day = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
    if (cache.size > 4096) cache.clear();
    cache.set(dayNumber, day);
  }
  return day;
}
