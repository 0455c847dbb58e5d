import { durationBucket, encodeBuckets } from "../../core/duration-buckets.ts";
import type { SqliteDriver } from "./driver.ts";
import { writeMeta } from "./meta.ts";
import { HOURLY_FROM_KEY, HOURLY_TABLES, HOURLY_TO_KEY } from "./schema-v2.ts";

const HOUR_MS = 3_600_000;
/** An hour is rolled up once it has been over this long: rows stamped a little late still land in it. */
export const HOURLY_GRACE_MS = 5 * 60_000;
/** Hours rolled up per write at most, so a writer catching up never stalls on one batch. */
const HOURS_PER_WRITE = 4;

const READ_HOUR = `SELECT repo, provider, model, conclusion, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
  cost_usd, cost_source, duration_ms FROM executions WHERE created_at >= ? AND created_at < ?`;

const INSERT_ROW = `INSERT INTO hourly_model_usage (hour, repo, provider, model, runs, successes, failures, errors, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** One hour's sums for one (repo, provider, model), in INSERT_ROW's order after the key, and its durations. */
interface HourGroup {
  key: [string, string, string];
  sums: number[];
  buckets: Map<number, number>;
}

/** Sums an hour's raw rows per (repo, provider, model), as the daily rollups sum a batch. */
function sumHour(rows: Record<string, unknown>[]): HourGroup[] {
  const groups = new Map<string, HourGroup>();
  for (const r of rows) {
    const id = `${r.repo}\u0000${r.provider}\u0000${r.model}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { key: [String(r.repo), String(r.provider), String(r.model)], sums: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], buckets: new Map() };
      groups.set(id, g);
    }
    const s = g.sums;
    const d = Number(r.duration_ms);
    s[0]! += 1;
    if (r.conclusion === "success") s[1]! += 1;
    else if (r.conclusion === "failure") s[2]! += 1;
    else if (r.conclusion === "error") s[3]! += 1;
    s[4]! += Number(r.input_tokens);
    s[5]! += Number(r.output_tokens);
    s[6]! += Number(r.cache_read_tokens);
    s[7]! += Number(r.cache_creation_tokens);
    s[8]! += Number(r.cost_usd);
    if (r.cost_source === "unpriced") s[9]! += 1;
    s[10]! += d;
    const bucket = durationBucket(d);
    g.buckets.set(bucket, (g.buckets.get(bucket) ?? 0) + 1);
  }
  return [...groups.values()];
}

export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * Keeps the hourly rollups in step with the raw rows, inside the caller's write transaction:
 * - rows inserted (or replaced) into hours already rolled up move the end of the covered span
 *   back to the first such hour, and those hours are rolled up again from the raw rows later;
 * - then up to HOURS_PER_WRITE closed hours after the span are rolled up, each from one read
 *   of its raw rows, one row per (repo, provider, model) with its duration sketch (empty hours
 *   are skipped by an index lookup).
 */
export class HourlyRollup {
  private readonly statements: ReturnType<HourlyRollup["prepare"]>;

  constructor(private readonly driver: SqliteDriver) {
    this.statements = this.prepare();
  }

  private prepare() {
    const d = this.driver;
    return {
      readHour: d.prepare(READ_HOUR),
      insert: d.prepare(INSERT_ROW),
      nextRaw: d.prepare("SELECT min(created_at) AS t FROM executions WHERE created_at >= ?"),
      // Prepared once: this runs on every write.
      readMeta: d.prepare("SELECT value FROM tally_meta WHERE key = ?"),
      writeMeta: d.prepare("INSERT INTO tally_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      forget: HOURLY_TABLES.map((table) => d.prepare(`DELETE FROM ${table} WHERE hour >= ?`)),
    };
  }

  /**
   * `earliestChanged`: the oldest created_at of executions this transaction inserted or
   * replaced; `newestInserted`: the newest inserted. An hour is rolled up once it is closed
   * (over HOURLY_GRACE_MS ago) and the runs being written have moved past it, so a writer of
   * older runs (an import) does not roll up the hour it is still filling.
   */
  advance(batch: { earliestChanged: number | null; newestInserted: number | null }, now: number): void {
    const { earliestChanged, newestInserted } = batch;
    const s = this.statements;
    const known = s.readMeta.get(HOURLY_TO_KEY)?.value;
    if (known === null || known === undefined) return; // no hourly tables yet (a migration in progress)
    let to = Number(known);
    const start = to;
    if (earliestChanged !== null && earliestChanged < to) {
      to = Math.max(floorHour(earliestChanged), Number(s.readMeta.get(HOURLY_FROM_KEY)?.value ?? 0));
      for (const forget of s.forget) forget.run(to);
    }
    const closedBefore = Math.min(floorHour(now - HOURLY_GRACE_MS), newestInserted === null ? Number.POSITIVE_INFINITY : floorHour(newestInserted));
    for (let rolled = 0; rolled < HOURS_PER_WRITE && to < closedBefore; ) {
      const next = s.nextRaw.get(to)?.t;
      if (next === null || next === undefined) {
        to = closedBefore; // no raw rows after the span: every closed hour is empty
        break;
      }
      const hour = floorHour(Number(next));
      if (hour >= closedBefore) {
        to = Math.max(to, hour); // the hours in between are empty
        break;
      }
      for (const g of sumHour(s.readHour.all(hour, hour + HOUR_MS))) s.insert.run(hour, ...g.key, ...g.sums, encodeBuckets(g.buckets));
      to = hour + HOUR_MS;
      rolled++;
    }
    if (to !== start) s.writeMeta.run(HOURLY_TO_KEY, to);
  }
}

/** Schema 2's start: the hourly rollups cover nothing yet; the writer rolls up from the raw rows still held. */
export function startHourlyRollups(driver: SqliteDriver, rawPurgedBefore: number | null): void {
  const from = rawPurgedBefore === null ? 0 : floorHour(rawPurgedBefore) + HOUR_MS;
  writeMeta(driver, HOURLY_FROM_KEY, from);
  writeMeta(driver, HOURLY_TO_KEY, from);
}
