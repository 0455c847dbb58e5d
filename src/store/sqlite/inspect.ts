import { statSync } from "node:fs";
import type { SqliteDriver } from "./driver.ts";
import { readSchemaVersion } from "./migrations.ts";
import { readMeta } from "./meta.ts";
import { RAW_TABLES, SCHEMA_V1 } from "./schema-v1.ts";
import { HOURLY_FROM_KEY, HOURLY_TO_KEY } from "./schema-v2.ts";
import { QUARTER_HOURS_FROM_KEY, QUARTER_HOURS_TO_KEY } from "./schema-v5.ts";

/** What `tally doctor` looks at. */
export interface DatabaseInspection {
  /** `ok`, or the problems SQLite's integrity check lists (at most 20). */
  integrity: string[];
  schemaVersion: number;
  fileBytes: number;
  walBytes: number;
  /** `oldest`/`newest` in epoch ms; null when the table is empty or its times are not numbers (a v0 file's ISO text). */
  tables: { name: string; rows: number; oldest: number | null; newest: number | null }[];
  /** Models with runs Tally could not price, with how many. */
  unpricedModels: { model: string; runs: number }[];
  /** Tables kept from a pre-versioned database (`legacy_*`). */
  legacyTables: string[];
  /** Tables this schema version should have but the file lacks. */
  missingTables: string[];
  /**
   * The spans [from, to) the writer has rolled up from closed hours (epoch ms; `tally_meta`):
   * hours, and quarter hours by time alone; null before the schema that has them.
   */
  rolledUp: {
    hours: { from: number; to: number } | null;
    quarterHours: { from: number; to: number } | null;
    /** Runs at or after the end of the hours rolled up: what reports read raw (0 without hourly rollups). */
    runsAfter: number;
  };
}

/** What the writer has rolled up from closed hours, and how many runs come after it. */
function rolledUp(driver: SqliteDriver, existing: ReadonlySet<string>): DatabaseInspection["rolledUp"] {
  if (!existing.has("tally_meta")) return { hours: null, quarterHours: null, runsAfter: 0 };
  const hours = metaSpan(driver, HOURLY_FROM_KEY, HOURLY_TO_KEY);
  const quarterHours = metaSpan(driver, QUARTER_HOURS_FROM_KEY, QUARTER_HOURS_TO_KEY);
  // Counted on the created_at index from the span's end: cheap when the writer keeps up.
  const runsAfter = hours === null ? 0 : Number(driver.prepare("SELECT count(*) AS n FROM executions WHERE created_at >= ?").get(hours.to)?.n ?? 0);
  return { hours, quarterHours, runsAfter };
}

/** A span kept in `tally_meta` as two numbers, or null when either is missing. */
function metaSpan(driver: SqliteDriver, fromKey: string, toKey: string): { from: number; to: number } | null {
  const from = readMeta(driver, fromKey);
  const to = readMeta(driver, toKey);
  // Anything but two numbers (a hand-edited or damaged value) reads as no span, never a throw.
  const span = { from: Number(from), to: Number(to) };
  return from === null || to === null || !Number.isFinite(span.from) || !Number.isFinite(span.to) ? null : span;
}

/** Every table the current schema creates. */
const EXPECTED_TABLES = [...SCHEMA_V1.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1]!);

function epochMs(value: unknown): number | null {
  return typeof value === "number" || typeof value === "bigint" ? Number(value) : null;
}

/** Size of a file in bytes; 0 when it cannot be stat-ed (a WAL not there: none yet, or removed at close). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Reads integrity, sizes, counts and time spans; `quick` uses quick_check (no index cross-check). */
export function inspectDatabase(driver: SqliteDriver, path: string, options: { quick?: boolean } = {}): DatabaseInspection {
  const integrity = driver
    .prepare(`PRAGMA ${options.quick ? "quick_check" : "integrity_check"}(20)`)
    .all()
    .map((row) => String(Object.values(row)[0]));
  const schemaVersion = readSchemaVersion(driver);
  const existing = new Set(driver.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => String(r.name)));
  const tables = RAW_TABLES.filter(({ table }) => existing.has(table)).map(({ table, timeColumn }) => {
    // min/max walk the time index from either end; count(*) is the one full pass.
    const span = driver.prepare(`SELECT count(*) AS n, min(${timeColumn}) AS oldest, max(${timeColumn}) AS newest FROM ${table}`).get();
    return {
      name: table,
      rows: Number(span?.n ?? 0),
      oldest: epochMs(span?.oldest),
      newest: epochMs(span?.newest),
    };
  });
  const unpricedModels = existing.has("daily_usage")
    ? driver
        .prepare("SELECT model, sum(unpriced_runs) AS runs FROM daily_usage WHERE unpriced_runs > 0 GROUP BY model ORDER BY runs DESC")
        .all()
        .map((r) => ({ model: String(r.model), runs: Number(r.runs) }))
    : [];
  return {
    integrity,
    schemaVersion,
    fileBytes: fileSize(path),
    walBytes: fileSize(`${path}-wal`),
    tables,
    unpricedModels,
    legacyTables: [...existing].filter((name) => name.startsWith("legacy_")).sort(),
    missingTables: EXPECTED_TABLES.filter((name) => !existing.has(name)),
    rolledUp: rolledUp(driver, existing),
  };
}

/** Raw rows older than a cutoff, per table (for `tally purge --dry-run`). */
export function countOlderThan(driver: SqliteDriver, cutoff: number): number {
  let total = 0;
  for (const { table, timeColumn } of RAW_TABLES) {
    total += Number(driver.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${timeColumn} < ?`).get(cutoff)?.n ?? 0);
  }
  return total;
}
