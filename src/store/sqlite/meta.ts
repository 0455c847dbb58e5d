import type { SqliteDriver, SqliteStatement } from "./driver.ts";

const SQL = {
  read: "SELECT value FROM tally_meta WHERE key = ?",
  write: "INSERT INTO tally_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  raise: "INSERT INTO tally_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
} as const;

/** Statements prepared once per connection: the hourly rollup reads and writes meta on every write. */
const prepared = new WeakMap<SqliteDriver, Record<keyof typeof SQL, SqliteStatement>>();

function statements(driver: SqliteDriver): Record<keyof typeof SQL, SqliteStatement> {
  let s = prepared.get(driver);
  if (s === undefined) {
    s = { read: driver.prepare(SQL.read), write: driver.prepare(SQL.write), raise: driver.prepare(SQL.raise) };
    prepared.set(driver, s);
  }
  return s;
}

/** A value of `tally_meta` (a number, or text such as a JSON document), or null. */
export function readMeta(driver: SqliteDriver, key: string): string | number | null {
  const value = statements(driver).read.get(key)?.value;
  if (typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "bigint") return Number(value);
  return null;
}

/** Sets a value of `tally_meta` (its column has INTEGER affinity: text that is not a number stays text). */
export function writeMeta(driver: SqliteDriver, key: string, value: string | number): void {
  statements(driver).write.run(key, value);
}

/** Raises a numeric value of `tally_meta` to `value`, never lowers it (a watermark). */
export function raiseMeta(driver: SqliteDriver, key: string, value: number): void {
  statements(driver).raise.run(key, value);
}
