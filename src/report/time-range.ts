const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Milliseconds in each unit of `7d`, `12h`, `90m`. */
const UNIT_MS = { d: DAY_MS, h: HOUR_MS, m: 60_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Why a time could not be read; the CLI turns it into a usage error. */
export class TimeParseError extends Error {
  override readonly name = "TimeParseError";
}

/** Midnight UTC of the day holding `ms`. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function isUtcMidnight(ms: number): boolean {
  return ms % DAY_MS === 0;
}

/**
 * Reads a time for --since / --until:
 * - `7d`: the last 7 calendar days, today included (from midnight UTC six days ago);
 * - `12h`, `90m`: exactly that long before now;
 * - `2026-11-01`: midnight UTC that day; with `endOfDay`, midnight after it (so --until is inclusive);
 * - an ISO date-time with a zone (`2026-11-01T10:00:00Z`): that instant.
 */
export function parseTime(text: string, now: number, options: { endOfDay?: boolean } = {}): number {
  const value = text.trim();
  const relative = /^(\d{1,5})([dhm])$/.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] as Unit;
    if (unit === "d") {
      if (amount === 0) throw new TimeParseError(`'${text}' is empty: use 1d for today`);
      return startOfUtcDay(now) - (amount - 1) * DAY_MS + (options.endOfDay ? DAY_MS : 0);
    }
    return now - amount * UNIT_MS[unit];
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value) throw new TimeParseError(`'${text}' is not a calendar date`);
    return ms + (options.endOfDay ? DAY_MS : 0);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeParseError(`cannot read '${text}' as a time: use 7d, 12h, 2026-11-01 or 2026-11-01T10:00:00Z`);
}

/** Reads a duration like `90d`, `12h` into milliseconds (for --older-than). */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (!match) throw new TimeParseError(`cannot read '${text}' as a duration: use 90d, 12h or 30m`);
  return Number(match[1]) * UNIT_MS[match[2] as Unit];
}
