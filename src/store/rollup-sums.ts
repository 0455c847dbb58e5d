/**
 * What a record adds to the rollup rows, for every store: the sums in the rollup columns'
 * order and the duration sketch, grouped per batch so that a batch costs one upsert per
 * rollup row it touches, not one per record.
 */
import type { CacheEventRow, ExecutionRow, RateLimitEventRow } from "../core/rows.ts";
import { durationBucket } from "../core/duration-buckets.ts";
import { floorTo, HOUR_MS, QUARTER_HOUR_MS } from "../core/time-units.ts";
import { utcDay } from "./sqlite/utc-day.ts";

/** One rollup group: its key (and that key as one string), its sums, and its durations by bucket. */
export interface Group {
  id: string;
  key: string[];
  sums: number[];
  buckets: Map<number, number>;
}

/**
 * A batch's groups of one rollup, found by their key's parts through nested maps rather than by
 * a key joined into one string: the parts are strings the records share (the same repo, model
 * and day objects, whose hashes the engine keeps), where a joined key is a new string to build
 * and hash for every record (measured: `add` was 13.5 % of the SQLite writer's CPU with joined keys).
 */
export class Groups {
  private readonly root = new Map<string, unknown>();
  private readonly found: Group[] = [];

  /** The group of `key`; on first sight a new one whose sums are `sums` itself (so `group.sums === sums` tells). */
  entry(key: string[], sums: number[]): Group {
    let node = this.root;
    const last = key.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(key[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(key[i]!, (next = new Map()));
      node = next;
    }
    let group = node.get(key[last]!) as Group | undefined;
    if (group === undefined) {
      // JSON, not a join: parts may hold any character, and two keys must never share an id.
      group = { id: JSON.stringify(key), key, sums, buckets: new Map() };
      node.set(key[last]!, group);
      this.found.push(group);
    }
    return group;
  }

  get size(): number {
    return this.found.length;
  }

  /** The groups in the order they were first seen. */
  values(): IterableIterator<Group> {
    return this.found.values();
  }

  [Symbol.iterator](): IterableIterator<Group> {
    return this.found.values();
  }
}

/** The sums a run adds to a rollup row, in the rollup columns' order (input … duration_ms). */
function tokenSums(row: RolledUpExecution): number[] {
  return [row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheCreationTokens, row.costUsd, row.costSource === "unpriced" ? 1 : 0, row.durationMs];
}

/**
 * What a run adds to a (time, repo, event, provider, model, conclusion) rollup row — daily_usage,
 * and the hourly one rolled up from closed hours — in its columns' order: runs, then the token sums.
 */
export function usageSums(row: RolledUpExecution): number[] {
  return [1, ...tokenSums(row)];
}

/**
 * What a run adds to a (time, repo, provider, model) rollup row — daily_model_usage, and the
 * hourly one rolled up from closed hours — in its columns' order: runs, successes, failures,
 * errors, then the token sums.
 */
export function modelUsageSums(row: RolledUpExecution): number[] {
  const outcome = [row.conclusion === "success" ? 1 : 0, row.conclusion === "failure" ? 1 : 0, row.conclusion === "error" ? 1 : 0];
  return [1, ...outcome, ...tokenSums(row)];
}

/** A degraded run's daily_degradations key (day, repo, resource, degradation), `day` its UTC day. */
export const degradationKey = (day: string, row: Pick<RateLimitEventRow, "repo" | "resource" | "degradation">): string[] => [day, row.repo, row.resource, row.degradation];

/** What a degraded run adds to its daily_degradations row, in its columns' order: runs, retry attempts, skipped queries. */
export function degradationSums(row: Pick<RateLimitEventRow, "retryAttempts" | "skippedQueries">): number[] {
  return [1, row.retryAttempts, row.skippedQueries];
}

/** A cache lookup's daily_cache_usage key (day, cache, repo). */
export const cacheLookupKey = (day: string, row: Pick<CacheEventRow, "cache" | "repo">): string[] => [day, row.cache, row.repo];

/** What a cache lookup adds to its daily_cache_usage row, in its columns' order: lookups, hits, misses, errors. */
export function cacheLookupSums(row: Pick<CacheEventRow, "outcome">): number[] {
  return [1, row.outcome === "hit" ? 1 : 0, row.outcome === "miss" ? 1 : 0, row.outcome === "error" ? 1 : 0];
}

/** The fields of an execution that its rollup rows are keyed and summed by. */
export type RolledUpExecution = Pick<ExecutionRow, "createdAt" | "repo" | "eventType" | "provider" | "model" | "conclusion" | "inputTokens"
  | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd" | "costSource" | "durationMs">;

export function signed(values: number[], sign: 1 | -1): number[] {
  return sign === 1 ? values : values.map((v) => -v);
}

/** Adds a row's sums to the group with `key` (made on first sight), for rollups without duration sketches. */
export function addSums(groups: Groups, key: string[], values: number[]): void {
  const group = groups.entry(key, values);
  if (group.sums !== values) for (let i = 0; i < values.length; i++) group.sums[i]! += values[i]!;
}

/** Adds a row's sums and its duration to the group with `key` (made on first sight). */
export function add(groups: Groups, key: string[], values: number[], durationMs: number, count: 1 | -1 = 1): void {
  const group = groups.entry(key, values);
  if (group.sums !== values) for (let i = 0; i < values.length; i++) group.sums[i]! += values[i]!;
  const bucket = durationBucket(durationMs);
  group.buckets.set(bucket, (group.buckets.get(bucket) ?? 0) + count);
}

/** Adds `sums` and a sketch's bucket counts into the group `key` of `groups` (made on first sight). */
export function merge(groups: Groups, key: string[], sums: readonly number[], buckets: ReadonlyMap<number, number>): void {
  const fresh = [...sums];
  const group = groups.entry(key, fresh);
  if (group.sums !== fresh) for (let i = 0; i < sums.length; i++) group.sums[i]! += sums[i]!;
  for (const [bucket, count] of buckets) group.buckets.set(bucket, (group.buckets.get(bucket) ?? 0) + count);
}

/** Runs of one (quarter hour, repo, event, provider, model, conclusion): the finest grain of every execution rollup. */
interface RunGroup {
  quarterHour: number;
  repo: string;
  eventType: string;
  provider: string;
  model: string;
  conclusion: string;
  /** {@link usageSums}, summed. */
  sums: number[];
  buckets: Map<number, number>;
}

/** The five execution rollups a batch's runs are summed into, each keyed as its table. */
export interface ExecutionRollupGroups {
  /** daily_usage: (day, repo, event, provider, model, conclusion). */
  daily: Groups;
  /** hourly_usage: (hour, repo, event, provider, model, conclusion). */
  hourly: Groups;
  /** daily_model_usage: (day, repo, provider, model). */
  dailyModel: Groups;
  /** hourly_model_usage: (hour, repo, provider, model). */
  hourlyModel: Groups;
  /** quarter_hour_usage: (quarter hour). */
  quarterHour: Groups;
}

/** The map under `node` for `part`, made on first sight. */
function child(node: Map<string, unknown>, part: string): Map<string, unknown> {
  let next = node.get(part) as Map<string, unknown> | undefined;
  if (next === undefined) node.set(part, (next = new Map()));
  return next;
}

/**
 * A batch's runs summed once each, at the finest grain any execution rollup needs, then
 * folded into the five rollups ({@link rollUp}): one lookup and no allocation per run where
 * adding every run to five rollups took five keys, five sums arrays and five lookups (6× the
 * time for 5,000 runs: BENCHMARKS.md, PostgreSQL, section 8). Sums and bucket counts are
 * signed, so a run found stored already can be taken back out.
 */
export class RunGroups {
  private readonly root = new Map<number, Map<string, unknown>>();
  private readonly found: RunGroup[] = [];

  add(row: RolledUpExecution, sign: 1 | -1 = 1): void {
    const quarterHour = floorTo(row.createdAt, QUARTER_HOUR_MS);
    let quarter = this.root.get(quarterHour);
    if (quarter === undefined) this.root.set(quarterHour, (quarter = new Map()));
    const node = child(child(child(child(quarter, row.repo), row.eventType), row.provider), row.model);
    let group = node.get(row.conclusion) as RunGroup | undefined;
    if (group === undefined) {
      group = {
        quarterHour, repo: row.repo, eventType: row.eventType, provider: row.provider, model: row.model, conclusion: row.conclusion,
        sums: [0, 0, 0, 0, 0, 0, 0, 0], buckets: new Map(),
      };
      node.set(row.conclusion, group);
      this.found.push(group);
    }
    const sums = group.sums;
    sums[0]! += sign;
    sums[1]! += sign * row.inputTokens;
    sums[2]! += sign * row.outputTokens;
    sums[3]! += sign * row.cacheReadTokens;
    sums[4]! += sign * row.cacheCreationTokens;
    sums[5]! += sign * row.costUsd;
    if (row.costSource === "unpriced") sums[6]! += sign;
    sums[7]! += sign * row.durationMs;
    const bucket = durationBucket(row.durationMs);
    group.buckets.set(bucket, (group.buckets.get(bucket) ?? 0) + sign);
  }

  get size(): number {
    return this.found.length;
  }

  /**
   * Moves every group's sums and sketch into the five rollups, as {@link usageSums} and
   * {@link modelUsageSums} would add them run by run; this is empty afterwards, so a second
   * call adds nothing twice.
   */
  rollUp(into: ExecutionRollupGroups): void {
    for (const g of this.found.splice(0)) {
      const day = utcDay(g.quarterHour);
      const hour = String(floorTo(g.quarterHour, HOUR_MS));
      const [runs, ...tokens] = g.sums as [number, ...number[]];
      const model = [runs, g.conclusion === "success" ? runs : 0, g.conclusion === "failure" ? runs : 0, g.conclusion === "error" ? runs : 0, ...tokens];
      merge(into.daily, [day, g.repo, g.eventType, g.provider, g.model, g.conclusion], g.sums, g.buckets);
      merge(into.hourly, [hour, g.repo, g.eventType, g.provider, g.model, g.conclusion], g.sums, g.buckets);
      merge(into.dailyModel, [day, g.repo, g.provider, g.model], model, g.buckets);
      merge(into.hourlyModel, [hour, g.repo, g.provider, g.model], model, g.buckets);
      merge(into.quarterHour, [String(g.quarterHour)], model, g.buckets);
    }
    this.root.clear();
  }
}
