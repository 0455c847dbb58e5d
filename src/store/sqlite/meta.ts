import type { SqliteDriver } from "./driver.ts";

/** A value of `tally_meta` (a number, or text such as a JSON document), or null. */
export function readMeta(driver: SqliteDriver, key: string): string | number | null {
  const value = driver.prepare("SELECT value FROM tally_meta WHERE key = ?").get(key)?.value;
  if (typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "bigint") return Number(value);
  return null;
}

/** Sets a value of `tally_meta` (its column has INTEGER affinity: text that is not a number stays text). */
export function writeMeta(driver: SqliteDriver, key: string, value: string | number): void {
  driver.prepare("INSERT INTO tally_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
}

/** Raises a numeric value of `tally_meta` to `value`, never lowers it (a watermark). */
export function raiseMeta(driver: SqliteDriver, key: string, value: number): void {
  driver.prepare("INSERT INTO tally_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)").run(key, value);
}
