/**
 * Shared helpers for the benchmarks: environment knobs, statistics, machine facts, markdown
 * tables, JSON results, temp directories and the record generator every bench uses.
 * Benchmarks print numbers; they never assert timings.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import type { ExecutionRecord } from "../src/index.ts";
import { openSqliteStore, SCHEMA_VERSION } from "../src/store/sqlite/index.ts";
import { SCHEMA_V1 } from "../src/store/sqlite/schema-v1.ts";

/** A positive number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export function envInt(name: string, fallback: number): number {
  return Math.round(envNumber(name, fallback));
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values as ArrayLike<number>).sort();
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function min(values: number[]): number {
  return values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
}

export function max(values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}

/** Formats a number with a sensible number of digits and thousands separators. */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function ratio(value: number, digits = 2): string {
  return `${fmt(value, digits)}×`;
}

/** A markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

export interface MachineInfo {
  /** The commit measured, "+dirty" when src/ had uncommitted changes. */
  commit: string;
  nproc: number;
  cpu: string;
  totalMemMiB: number;
  os: string;
  bun: string;
  sqlite: string;
  loadavgAtStart: number[];
  /** /proc/pressure/io "some avg60" at start (% of time some task waited on I/O), when available. */
  ioPressureAtStart: number | null;
}

export function machineInfo(): MachineInfo {
  const db = new Database(":memory:");
  const sqlite = String((db.query("select sqlite_version() as v").get() as { v: string }).v);
  db.close();
  const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: join(import.meta.dir, "..") }).stdout.toString().trim();
  const commit = process.env.BENCH_COMMIT ?? `${git("rev-parse", "--short", "HEAD") || "unknown"}${git("status", "--porcelain", "--", "src") ? "+dirty" : ""}`;
  return {
    commit,
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    totalMemMiB: Math.round(totalmem() / 2 ** 20),
    os: `${process.platform} ${release()}`,
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    sqlite,
    loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    ioPressureAtStart: ioPressure(),
  };
}

export function machineLine(info: MachineInfo): string {
  return `commit ${info.commit}; machine: nproc=${info.nproc}, ${info.cpu}, ${info.totalMemMiB} MiB, ${info.os}; bun ${info.bun}; SQLite ${info.sqlite}; loadavg at start ${info.loadavgAtStart.join(" ")}${info.ioPressureAtStart === null ? "" : `, I/O pressure (some avg60) ${info.ioPressureAtStart}%`}`;
}

/** /proc/pressure/io "some avg60", or null off Linux. */
export function ioPressure(): number | null {
  try {
    const text = readFileSync("/proc/pressure/io", "utf8");
    const match = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function loadNow(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Writes bench/results/<name>.json atomically (tmp file, then rename). */
export function writeResults(name: string, data: unknown): string {
  // BENCH_TAG=x writes <name>-x.json, so an extra run never overwrites the default one.
  const tag = process.env.BENCH_TAG ? `-${process.env.BENCH_TAG}` : "";
  const path = join(import.meta.dir, "results", `${name}${tag}.json`);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tally-bench-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates the Tally schema in a fresh file (open a store, close it) and returns the path. */
export function freshSchemaFile(dir: string, name: string): string {
  const path = join(dir, name);
  openSqliteStore({ path, retentionDays: 0 }).close();
  return path;
}

/**
 * What-if: the current schema with every `CHECK (col IN ('a', 'b', …))` written as
 * `CHECK (col = 'a' OR col = 'b' …)`. SQLite evaluates an IN list of 3+ constants by building
 * an ephemeral index once per statement execution, i.e. once per inserted row here; the OR
 * form has no such setup. The file gets the current user_version, so openSqliteStore takes it as is.
 */
export const SCHEMA_V1_OR_CHECKS = SCHEMA_V1.replace(/CHECK \((\w+) IN \(([^)]*)\)\)/g, (_all, column: string, list: string) =>
  `CHECK (${list.split(",").map((value) => `${column} = ${value.trim()}`).join(" OR ")})`);

export function orCheckSchemaFile(dir: string, name: string): string {
  const path = join(dir, name);
  const db = new Database(path, { create: true, readwrite: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(SCHEMA_V1_OR_CHECKS);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  db.close();
  return path;
}

/** bun:sqlite on an existing Tally file, configured as the store configures itself. */
export function openRaw(path: string): Database {
  const db = new Database(path, { create: false, readwrite: true });
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  return db;
}

export const INSERT_EXECUTION = `INSERT INTO executions (id, created_at, delivery_id, repo, pr_number, event_type, provider, model,
  input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, duration_ms, cost_usd, cost_source,
  conclusion, session_id, num_turns, stop_reason, attributes)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export const UPSERT_DAILY_USAGE = `INSERT INTO daily_usage (day, repo, event_type, provider, model, conclusion, runs, input_tokens,
  output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, unpriced_runs, duration_ms)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (day, repo, event_type, provider, model, conclusion) DO UPDATE SET
    runs = runs + excluded.runs, input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cost_usd = cost_usd + excluded.cost_usd,
    unpriced_runs = unpriced_runs + excluded.unpriced_runs, duration_ms = duration_ms + excluded.duration_ms`;

/** Present since the duration-bucket rollups; the raw "same work" baselines upsert it when the schema has it. */
export const UPSERT_DAILY_DURATION_BUCKETS = `INSERT INTO daily_duration_buckets (day, repo, event_type, provider, model, conclusion, bucket, runs)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (day, repo, event_type, provider, model, conclusion, bucket) DO UPDATE SET runs = runs + excluded.runs`;

// The workload: a PR-review bot across 8 repositories, 3 event types, 3 models, mostly
// successful runs; ~18 columns filled, as the seeds' bot records them.
const REPOS = Array.from({ length: 8 }, (_, i) => `acme/service-${i}`);
const EVENTS = ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"];
const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
const CONCLUSIONS = ["success", "success", "success", "success", "success", "success", "success", "failure"];

/** The i-th execution record of the workload; `withCost` false leaves pricing to Tally. */
export function makeExecution(i: number, withCost = true): ExecutionRecord {
  return {
    repo: REPOS[i % 8]!,
    eventType: EVENTS[(i >> 3) % 3]!,
    model: MODELS[(i >> 1) % 3]!,
    conclusion: CONCLUSIONS[(i * 5) % 8]!,
    deliveryId: `delivery-${i}`,
    prNumber: 1 + (i % 997),
    inputTokens: 1_000 + (i % 5_000),
    outputTokens: 200 + (i % 1_500),
    cacheReadTokens: 8_000 + (i % 20_000),
    cacheCreationTokens: i % 3 === 0 ? 2_000 : 0,
    durationMs: 4_000 + (i % 60_000),
    costUsd: withCost ? 0.01 + (i % 100) / 1000 : undefined,
    sessionId: `session-${i >> 2}`,
    numTurns: 1 + (i % 12),
    stopReason: "end_turn",
  };
}

/** The positional values of one executions row built from a record, as a direct writer would bind them. */
export function rowValues(id: string, createdAt: number, r: ExecutionRecord): (string | number | null)[] {
  return [
    id, createdAt, r.deliveryId ?? null, r.repo ?? "", r.prNumber ?? null, r.eventType ?? "", r.provider ?? "anthropic", r.model,
    r.inputTokens ?? 0, r.outputTokens ?? 0, r.cacheReadTokens ?? 0, r.cacheCreationTokens ?? 0, r.durationMs ?? 0,
    r.costUsd ?? 0, "reported", r.conclusion, r.sessionId ?? null, r.numTurns ?? null, r.stopReason ?? null, null,
  ];
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Byte counts as MiB. */
export const mib = (bytes: number): number => bytes / 2 ** 20;
