import type { TimeUnit } from "./plan.ts";
import { DAY_MS } from "../core/time-units.ts";
import { formatOffset } from "./time-zone.ts";

/**
 * The label of the time bucket holding a local wall time (`wallMs`: the zone's clock reading,
 * encoded as if it were UTC): `2026-11-22T14:00+01:00` (the offset tells apart the hour that
 * repeats when daylight saving ends), `2026-11-22`, the week's Monday `2026-11-16`, `2026-11`.
 */
export function bucketLabel(unit: TimeUnit, wallMs: number, offsetMs: number): string {
  const iso = new Date(wallMs).toISOString();
  switch (unit) {
    case "hour":
      return `${iso.slice(0, 13)}:00${formatOffset(offsetMs)}`;
    case "day":
      return iso.slice(0, 10);
    case "week": {
      const day = Math.floor(wallMs / DAY_MS);
      // 1970-01-05 (day 4) was a Monday.
      const monday = day - ((((day - 4) % 7) + 7) % 7);
      return new Date(monday * DAY_MS).toISOString().slice(0, 10);
    }
    case "month":
      return iso.slice(0, 7);
  }
}
