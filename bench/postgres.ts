/**
 * The PostgreSQL store (src/store/postgres), measured against raw PostgreSQL on one server,
 * in one run:
 *
 * 1. ingest — records/s through createTelemetry → openPostgresStore (executions only, Tally's
 *    own UUIDv7 ids) vs the same rows (a UUIDv7 from the `uuidv7` package and Date.now() per
 *    row, as Tally makes them) written raw into a copy of the same `executions` table: one COPY
 *    of all rows, one COPY per 1000 rows, and a multi-row INSERT … VALUES of 1000 rows per
 *    statement (prepared). Every variant has a schema of its own, made by the store's own
 *    migration (so the raw targets are the same partitioned table: monthly partitions, primary
 *    key (id, created_at), the created_at index, the CHECKs; the raw variants write no id
 *    claims and no rollups, Tally writes both), emptied (TRUNCATE, every table) and
 *    CHECKPOINTed before each run. The clock runs from the first record or row to the end of
 *    `await flush()` / the last statement's answer. Variants interleaved in a rotating order.
 *    Tally's producer records 500 at a time while the queue (10,000) has room and otherwise
 *    sleeps 1 ms, so it never spins while a write is in flight (the queue stays full: every
 *    write takes maxBatchSize records: the store's preference, 5,000, unless PG_MAX_BATCH).
 *    Since Session 20 the store writes such batches' new rows by COPY (write.ts copyNewRows).
 * 2. breakdown — where a batch's time goes. Prepared batches of PG_BATCH rows (1000) through
 *    `store.write(batch)` (by COPY since Session 20), and through the store's own `writeBatch` (write.ts, row by row: `copy: false`) inside
 *    `sql.begin`, with each statement it sends timed (a proxy on `tx.unsafe`): the executions
 *    INSERT vs the rollup upsert. What-ifs on the same batches, each in a transaction of its
 *    own: the INSERT without its cross-partition id guard (the `executions_ids` claim, or the
 *    NOT EXISTS check at earlier commits), a plain unnest INSERT, a plain multi-row
 *    VALUES INSERT; the rollup upsert alone, unprepared and prepared (writeBatch sends it one
 *    way or the other depending on the commit), and, prepared as writeBatch does, without the
 *    in-SQL sketch merge (sketch replaced) and with sums only (no sketch column).
 * 3. report — a 30-day usage report on PG_REPORT_N (10M) runs over the last 90 days (20 repos,
 *    4 models, 3 event types, 3 conclusions; fields from a hash of the row number). The raw
 *    rows are loaded with COPY in time order (ids UUIDv7-shaped from created_at), their id
 *    claims into `executions_ids` likewise (both without indexes, which are built again
 *    afterwards from the migration's own definitions), and the five execution rollups
 *    (hourly_usage, hourly_model_usage, daily_usage, daily_model_usage, quarter_hour_usage) by five more COPYs at
 *    the same time, their sums and duration sketches made while the rows stream by with the
 *    store's own code (rollup-sums.ts `add`, duration-buckets.ts, sketch.ts `encodePairs`):
 *    what the store would hold after writing these rows, without its write path. Then VACUUM ANALYZE. `store.report` by day and by repo × model, with and without
 *    percentiles, over the last 30 days (edges from hourly rollups and raw rows) and over 30
 *    whole UTC days; calls interleaved, p50/p95 of PG_REPORT_CALLS (20) after one warm-up
 *    each; plus a few `exact: true` calls (a raw scan) for scale. Then 3b: batches written
 *    into this large table with the store's writeBatch, each transaction rolled back.
 *
 *   bun bench/postgres.ts                       (starts a throwaway server with scripts/test-postgres.sh, stops it at the end)
 *   PG_URL=postgres://… bun bench/postgres.ts   (an existing server; the report table is kept and reused when it has PG_REPORT_N rows)
 *   PG_N=200000 PG_ROUNDS=3 PG_BATCH=1000 PG_BATCHES=100 PG_REPORT_N=10000000 PG_REPORT_CALLS=20 PG_EXACT_CALLS=3 PG_BIG_BATCHES=20
 *   PG_PARTS=ingest,breakdown,report            (which parts run)
 *   PG_MAX_BATCH=500                            (createTelemetry's maxBatchSize in the ingest part; default the store's preference)
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { Sql, TransactionSql } from "postgres";
import { uuidv7 } from "uuidv7";
import { createTelemetry, type ExecutionRow, type StoredRecord } from "../src/index.ts";
import { DAY_MS, floorTo, HOUR_MS, QUARTER_HOUR_MS } from "../src/core/time-units.ts";
import type { UsageReportSpec } from "../src/report/spec.ts";
import {
  DAILY_MODEL_USAGE, DAILY_USAGE, EXECUTIONS, HOURLY_MODEL_USAGE, HOURLY_USAGE, insertRowsSql, QUARTER_HOUR_USAGE, unnestFrom, upsertRollupCte, type RollupColumns,
} from "../src/store/postgres/columns.ts";
import { openPool } from "../src/store/postgres/connection.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { Partitions } from "../src/store/postgres/partitions.ts";
import { encodePairs } from "../src/store/postgres/sketch.ts";
import { writeBatch } from "../src/store/postgres/write.ts";
import { add, Groups, merge, modelUsageSums, usageSums, type Group, type RolledUpExecution } from "../src/store/rollup-sums.ts";
import { utcDay } from "../src/store/sqlite/utc-day.ts";
import { envInt, fmt, loadNow, machineInfo, machineLine, makeExecution, max, median, min, nextTurn, percentile, ratio, rowValues, sleep, sortedCopy, table, writeResults } from "./lib.ts";

const N = envInt("PG_N", 200_000);
const ROUNDS = envInt("PG_ROUNDS", 3);
const BATCH = envInt("PG_BATCH", 1000);
const BATCHES = envInt("PG_BATCHES", 100);
const REPORT_N = envInt("PG_REPORT_N", 10_000_000);
const REPORT_CALLS = envInt("PG_REPORT_CALLS", 20);
const EXACT_CALLS = envInt("PG_EXACT_CALLS", 3);
/** Batches per variant and round written (and rolled back) into the large report table. */
const BIG_BATCHES = envInt("PG_BIG_BATCHES", 20);
/** createTelemetry's maxBatchSize for the ingest part (unset: the default, the store's preferredMaxBatchSize). */
const MAX_BATCH = process.env.PG_MAX_BATCH === undefined ? undefined : envInt("PG_MAX_BATCH", 500);
const PARTS = new Set((process.env.PG_PARTS ?? "ingest,breakdown,report").split(",").filter(Boolean));
/** Records per recordExecution burst while the queue has room (as bench/throughput.ts). */
const CHUNK = 500;
const MAX_QUEUE = 10_000;
const REPO_ROOT = join(import.meta.dir, "..");

const machine = machineInfo();
const log = (line: string) => console.log(line);
const ms = () => performance.now();

// ---------------------------------------------------------------------------------------------
// The server

interface Server {
  url: string;
  /** The data directory of a server this bench started, or null for PG_URL. */
  dir: string | null;
}

function startServer(): Server {
  if (process.env.PG_URL) return { url: process.env.PG_URL, dir: null };
  const started = spawnSync("bash", [join(REPO_ROOT, "scripts/test-postgres.sh")], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`scripts/test-postgres.sh failed: ${started.stderr}`);
  const out = started.stdout.trim();
  return { url: out.slice(0, out.indexOf(" ")), dir: out.slice(out.lastIndexOf(" ") + 1) };
}

function stopServer(server: Server): void {
  if (server.dir !== null) spawnSync("bash", [join(REPO_ROOT, "scripts/test-postgres.sh"), "stop", server.dir], { stdio: "inherit" });
}

/** CPU-seconds used so far by the server this bench started (postmaster and its children), or NaN. */
function serverCpuSeconds(): number {
  if (server.dir === null) return Number.NaN;
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(server.dir, "data/postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return Number.NaN;
  }
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) === postmaster || Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

/** Starts counting CPU-seconds of this process and of the server; the returned function reads them. */
function cpuMeter(): () => { clientCpuSeconds: number; serverCpuSeconds: number } {
  const client = process.cpuUsage();
  const serverBefore = serverCpuSeconds();
  return () => {
    const used = process.cpuUsage(client);
    return { clientCpuSeconds: (used.user + used.system) / 1e6, serverCpuSeconds: serverCpuSeconds() - serverBefore };
  };
}

const server = startServer();
let stopped = false;
const stopOnce = () => {
  if (!stopped) {
    stopped = true;
    stopServer(server);
  }
};
process.on("SIGINT", () => {
  stopOnce();
  process.exit(130);
});

/** A pool with TCP_NODELAY (the store's own openPool) whose search_path is `schema`. */
const pools = new Map<string, Sql>();
async function pool(schema = "public"): Promise<Sql> {
  let sql = pools.get(schema);
  if (sql === undefined) pools.set(schema, (sql = await openPool({ url: server.url, sessionSchema: schema, maxConnections: 2, connectTimeoutSeconds: 10 })));
  return sql;
}

/** Drops `schema` and makes it again through the store's own migration (tables, partitions for this month and two ahead). */
async function freshSchema(schema: string): Promise<void> {
  const sql = await pool();
  await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const store = openPostgresStore({ url: server.url, schema, retentionDays: 0 });
  await store.ready;
  if (store.unwritableReason !== null) throw new Error(`cannot open ${schema}: ${store.unwritableReason}`);
  await store.close();
}

let canCheckpoint = true;
/** Empties every table of `schema` but tally_meta (raw rows, id claims, rollups) and checkpoints, so every run starts alike. */
async function reset(schema: string): Promise<void> {
  const sql = await pool();
  const tables = await sql.unsafe(`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname NOT IN ('tally_meta', 'import_files')`, [schema] as never[]);
  await sql.unsafe(`TRUNCATE ${tables.map((t) => `"${schema}".${t.name}`).join(", ")}`);
  if (canCheckpoint) {
    try {
      await sql.unsafe("CHECKPOINT");
    } catch {
      canCheckpoint = false; // not a superuser on PG_URL
    }
  }
}

async function count(schema: string, what = "count(*)", from = "executions"): Promise<number> {
  const [row] = await (await pool()).unsafe(`SELECT ${what} AS n FROM "${schema}".${from}`);
  return Number(row?.n ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Rows

const COLUMNS = EXECUTIONS.columns.map(([name]) => name);
const COLUMN_LIST = COLUMNS.join(", ");

/** One raw row as the raw variants write it: a uuidv7 id and Date.now(), the fields of makeExecution(i). */
function rawRow(i: number): (string | number | null)[] {
  return rowValues(uuidv7(), Date.now(), makeExecution(i, true));
}

/** The same row as the store receives it. */
function executionRow(i: number): ExecutionRow {
  const v = rawRow(i);
  return {
    id: v[0] as string, createdAt: v[1] as number, deliveryId: v[2] as string, repo: v[3] as string, prNumber: v[4] as number, eventType: v[5] as string,
    provider: v[6] as string, model: v[7] as string, inputTokens: v[8] as number, outputTokens: v[9] as number, cacheReadTokens: v[10] as number,
    cacheCreationTokens: v[11] as number, durationMs: v[12] as number, costUsd: v[13] as number, costSource: "reported", conclusion: v[15] as string,
    sessionId: v[16] as string, numTurns: v[17] as number, stopReason: v[18] as string, attributes: null,
  };
}

/** A row in COPY's text format (our values hold no tab, newline or backslash). */
function copyLine(values: readonly (string | number | null)[]): string {
  let line = "";
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    line += (k === 0 ? "" : "\t") + (v === null ? "\\N" : v);
  }
  return `${line}\n`;
}

async function openCopy(sql: Sql, target: string, columns = COLUMN_LIST): Promise<{ stream: Writable; done: Promise<unknown> }> {
  const stream = (await sql.unsafe(`COPY ${target} (${columns}) FROM STDIN`).writable()) as unknown as Writable;
  const done = new Promise((resolve, reject) => {
    stream.once("finish", resolve);
    stream.once("error", reject);
  });
  return { stream, done };
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, "drain");
}

const valuesSql = new Map<string, string>();
/** `INSERT INTO target (…) VALUES ($1, …), …` for `rows` rows. */
function multiRowInsert(target: string, rows: number): string {
  const key = `${target}/${rows}`;
  let text = valuesSql.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) tuples.push(`(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(", ")})`);
    valuesSql.set(key, (text = `INSERT INTO ${target} (${COLUMN_LIST}) VALUES ${tuples.join(", ")}`));
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Part 1: ingest

interface IngestResult {
  seconds: number;
  rowsPerSecond: number;
  rows: number;
  extra?: Record<string, unknown>;
}

const INGEST_SCHEMA = {
  tally: "bench_pg_tally",
  copyAll: "bench_pg_copy",
  copy1000: "bench_pg_copy1000",
  insert1000: "bench_pg_insert",
} as const;
type IngestVariant = keyof typeof INGEST_SCHEMA;

const INGEST_LABEL: Record<IngestVariant, string> = {
  tally: `Tally: createTelemetry → openPostgresStore (${MAX_BATCH === undefined ? "default maxBatchSize" : `batches of up to ${MAX_BATCH}`})`,
  copyAll: "raw COPY, one statement for all rows",
  copy1000: "raw COPY, one statement per 1000 rows",
  insert1000: "raw multi-row INSERT … VALUES, 1000 rows per statement (prepared)",
};

async function ingestTally(schema: string, n: number): Promise<IngestResult> {
  await reset(schema);
  const store = openPostgresStore({ url: server.url, schema, retentionDays: 0 });
  await store.ready;
  const telemetry = createTelemetry({ store, flushOnExit: false, maxQueueSize: MAX_QUEUE, ...(MAX_BATCH === undefined ? {} : { maxBatchSize: MAX_BATCH }) });
  const t0 = ms();
  const meter = cpuMeter();
  let i = 0;
  while (i < n) {
    if (MAX_QUEUE - telemetry.stats().queued >= CHUNK) {
      const end = Math.min(n, i + CHUNK);
      for (; i < end; i++) telemetry.recordExecution(makeExecution(i, true));
      await nextTurn();
    } else {
      // Not setImmediate in a loop (as bench/throughput.ts, whose store is synchronous): spinning
      // while a write is in flight cost 7.8 instead of 3.2 CPU-seconds per 100,000 records, on
      // the 2 cores the server needs.
      await sleep(1);
    }
  }
  await telemetry.flush();
  const seconds = (ms() - t0) / 1000;
  const cpu = meter();
  const stats = telemetry.stats();
  await telemetry.shutdown();
  const rows = await count(schema);
  const runs = await count(schema, "coalesce(sum(runs), 0)", "daily_usage");
  if (rows !== n || runs !== n || stats.written !== n) console.error(`  warning: tally wrote ${rows} rows, ${runs} runs in daily_usage, stats ${JSON.stringify(stats)}`);
  return { seconds, rowsPerSecond: n / seconds, rows, extra: { flushes: stats.flushes, meanBatch: n / stats.flushes, rollupRuns: runs, ...cpu } };
}

async function ingestCopyAll(schema: string, n: number): Promise<IngestResult> {
  await reset(schema);
  const sql = await pool();
  const t0 = ms();
  const meter = cpuMeter();
  const { stream, done } = await openCopy(sql, `"${schema}".executions`);
  for (let i = 0; i < n; i += 1000) {
    let chunk = "";
    for (let j = i; j < Math.min(n, i + 1000); j++) chunk += copyLine(rawRow(j));
    await write(stream, chunk);
  }
  stream.end();
  await done;
  const seconds = (ms() - t0) / 1000;
  const cpu = meter();
  const rows = await count(schema);
  if (rows !== n) console.error(`  warning: copyAll wrote ${rows} rows`);
  return { seconds, rowsPerSecond: n / seconds, rows, extra: cpu };
}

/**
 * Writes rows 0 … n−1 in statements of 1000 (`writeChunk` writes rows [from, to)), timing each
 * statement; checks the count afterwards.
 */
async function ingestPer1000(schema: string, n: number, name: string, writeChunk: (sql: Sql, from: number, to: number) => Promise<void>): Promise<IngestResult> {
  await reset(schema);
  const sql = await pool();
  const latencies: number[] = [];
  const t0 = ms();
  const meter = cpuMeter();
  for (let i = 0; i < n; i += 1000) {
    const s = ms();
    await writeChunk(sql, i, Math.min(n, i + 1000));
    latencies.push(ms() - s);
  }
  const seconds = (ms() - t0) / 1000;
  const cpu = meter();
  const rows = await count(schema);
  if (rows !== n) console.error(`  warning: ${name} wrote ${rows} rows`);
  return { seconds, rowsPerSecond: n / seconds, rows, extra: { msPerStatementP50: median(latencies), ...cpu } };
}

function ingestCopy1000(schema: string, n: number): Promise<IngestResult> {
  return ingestPer1000(schema, n, "copy1000", async (sql, from, to) => {
    let chunk = "";
    for (let j = from; j < to; j++) chunk += copyLine(rawRow(j));
    const { stream, done } = await openCopy(sql, `"${schema}".executions`);
    stream.end(chunk);
    await done;
  });
}

function ingestInsert1000(schema: string, n: number): Promise<IngestResult> {
  return ingestPer1000(schema, n, "insert1000", async (sql, from, to) => {
    const params: (string | number | null)[] = [];
    for (let j = from; j < to; j++) params.push(...rawRow(j));
    await sql.unsafe(multiRowInsert(`"${schema}".executions`, to - from), params as never[], { prepare: true });
  });
}

const INGEST_RUN: Record<IngestVariant, (schema: string, n: number) => Promise<IngestResult>> = {
  tally: ingestTally, copyAll: ingestCopyAll, copy1000: ingestCopy1000, insert1000: ingestInsert1000,
};

async function partIngest(): Promise<Record<string, unknown>> {
  const variants = Object.keys(INGEST_SCHEMA) as IngestVariant[];
  for (const v of variants) await freshSchema(INGEST_SCHEMA[v]);
  // Warm-up: a small run of each (connections, prepared statements, the server's caches).
  for (const v of variants) await INGEST_RUN[v](INGEST_SCHEMA[v], Math.min(N, 20_000));
  const runs: Record<string, IngestResult[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const loads: number[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, k) => variants[(k + round) % variants.length]!);
    for (const v of order) {
      const result = await INGEST_RUN[v](INGEST_SCHEMA[v], N);
      runs[v]!.push(result);
      log(`  round ${round + 1} ${v}: ${fmt(result.rowsPerSecond)} rows/s (${fmt(result.seconds, 2)} s)`);
    }
    loads.push(loadNow());
  }
  const med = (v: IngestVariant) => median(runs[v]!.map((r) => r.rowsPerSecond));
  const copy = med("copyAll");
  const rows = variants.map((v) => {
    const rates = runs[v]!.map((r) => r.rowsPerSecond);
    return [INGEST_LABEL[v], fmt(med(v)), `${fmt(min(rates))} – ${fmt(max(rates))}`, ratio(med(v) / copy), ratio(med(v) / med("copy1000")), ratio(med(v) / med("insert1000"))];
  });
  log(`\n### 1. ingest: ${fmt(N)} executions per run, median of ${ROUNDS} rounds\n`);
  log(table(["variant", "rows/s (median)", "min – max", "÷ COPY all", "÷ COPY per 1000", "÷ INSERT 1000"], rows));
  const perHundredK = (v: IngestVariant, key: string) => median(runs[v]!.map((r) => (Number(r.extra?.[key]) * 100_000) / N));
  log(`\nCPU-seconds per 100,000 rows (median), while timed: ${variants.map((v) => `${v} client ${fmt(perHundredK(v, "clientCpuSeconds"), 2)} / server ${fmt(perHundredK(v, "serverCpuSeconds"), 2)} / wall ${fmt(100_000 / med(v), 2)}`).join("; ")}`);
  const tallyExtra = runs.tally!.map((r) => r.extra);
  log(`\nTally's writes: ${tallyExtra.map((e) => `${e?.flushes} writes (mean ${fmt(Number(e?.meanBatch), 0)} records)`).join(", ")}; load after rounds: ${loads.map((l) => l[0]).join(", ")}`);
  log(`ms per statement (median): COPY per 1000 ${fmt(median(runs.copy1000!.map((r) => Number(r.extra?.msPerStatementP50))), 2)}, INSERT 1000 ${fmt(median(runs.insert1000!.map((r) => Number(r.extra?.msPerStatementP50))), 2)}`);
  return { n: N, rounds: ROUNDS, schemas: INGEST_SCHEMA, runs, medians: Object.fromEntries(variants.map((v) => [v, med(v)])), tallyOverCopy: med("tally") / copy, loadAfterRounds: loads };
}

// ---------------------------------------------------------------------------------------------
// Part 2: breakdown of one batch

/** The rollup groups of a batch of fresh executions, as write.ts's RollupGroups makes them. */
function rollupGroups(rows: readonly ExecutionRow[]): Map<RollupColumns, Groups> {
  const byTable = new Map<RollupColumns, Groups>([
    [DAILY_USAGE, new Groups()], [DAILY_MODEL_USAGE, new Groups()], [HOURLY_USAGE, new Groups()], [HOURLY_MODEL_USAGE, new Groups()], [QUARTER_HOUR_USAGE, new Groups()],
  ]);
  for (const row of rows) {
    const day = utcDay(row.createdAt);
    const hour = String(floorTo(row.createdAt, HOUR_MS));
    const usage = usageSums(row);
    const model = modelUsageSums(row);
    add(byTable.get(DAILY_USAGE)!, [day, row.repo, row.eventType, row.provider, row.model, row.conclusion], usage, row.durationMs);
    add(byTable.get(HOURLY_USAGE)!, [hour, row.repo, row.eventType, row.provider, row.model, row.conclusion], [...usage], row.durationMs);
    add(byTable.get(DAILY_MODEL_USAGE)!, [day, row.repo, row.provider, row.model], model, row.durationMs);
    add(byTable.get(HOURLY_MODEL_USAGE)!, [hour, row.repo, row.provider, row.model], [...model], row.durationMs);
    add(byTable.get(QUARTER_HOUR_USAGE)!, [String(floorTo(row.createdAt, QUARTER_HOUR_MS))], [...model], row.durationMs);
  }
  return byTable;
}

type UpsertShape = "tally" | "noMerge" | "sumsOnly";

/** The one-statement rollup upsert, as write.ts's RollupGroups.statement() builds it, or a what-if shape of it. */
function upsertStatement(byTable: Map<RollupColumns, Groups>, shape: UpsertShape): { sql: string; params: unknown[] } {
  const ctes: string[] = [];
  const params: unknown[] = [];
  for (const [t, groups] of byTable) {
    const sorted = [...groups].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const first = params.length + 1;
    t.keys.forEach((_, i) => params.push(sorted.map((g) => g.key[i])));
    t.sums.forEach((_, i) => params.push(sorted.map((g) => g.sums[i])));
    const name = `r${ctes.length}`;
    if (shape === "sumsOnly") {
      const columns = [...t.keys, ...t.sums];
      const names = columns.map(([n]) => n).join(", ");
      const updates = t.sums.map(([n]) => `${n} = ${t.table}.${n} + excluded.${n}`);
      ctes.push(`${name} AS (INSERT INTO ${t.table} (${names}) SELECT ${names} FROM ${unnestFrom(columns, first)}
    ON CONFLICT (${t.keys.map(([n]) => n).join(", ")}) DO UPDATE SET ${updates.join(", ")} RETURNING 1)`);
      continue;
    }
    params.push(sorted.map((g) => encodePairs(g.buckets)));
    let cte = upsertRollupCte(name, t, first);
    if (shape === "noMerge") {
      const merge = `tally_sketch_merge(${t.table}.duration_buckets, excluded.duration_buckets)`;
      if (!cte.includes(merge)) throw new Error("write path changed: no sketch merge call to replace");
      cte = cte.replace(merge, "excluded.duration_buckets");
    }
    ctes.push(cte);
  }
  return { sql: `WITH ${ctes.join(",\n")} SELECT 1`, params };
}

interface Timing {
  sql: string;
  ms: number;
  start: number;
  end: number;
}

/** A transaction whose `unsafe` statements are timed one by one (writeBatch awaits each in turn). */
function timedTx(tx: TransactionSql, timings: Timing[]): TransactionSql {
  return new Proxy(tx, {
    get(target, prop, receiver) {
      if (prop !== "unsafe") return Reflect.get(target, prop, receiver);
      return (query: string, params?: unknown[], options?: unknown) => {
        const t0 = ms();
        return (target.unsafe(query, params as never[], options as never) as unknown as Promise<unknown>).then((rows) => {
          const end = ms();
          timings.push({ sql: query, ms: end - t0, start: t0, end });
          return rows;
        });
      };
    },
  });
}

/** How the store's executions INSERT keeps one row per id across partitions (it changed between commits). */
const TALLY_INSERT = insertRowsSql(EXECUTIONS, true);
const ID_GUARD = TALLY_INSERT.includes("executions_ids") ? "the id claim in `executions_ids`" : TALLY_INSERT.includes("NOT EXISTS") ? "the NOT EXISTS id check" : "its id guard";

/** Whether writeBatch sends the rollup upsert as a prepared statement (it changed between commits; read from its source). */
const UPSERT_PREPARED = /upsert\.sql, upsert\.params as never\[\], \{ prepare: true \}/.test(readFileSync(join(REPO_ROOT, "src/store/postgres/write.ts"), "utf8"));

const BREAKDOWN_VARIANTS = [
  "storeWrite", "inSitu", "insertUnguarded", "insertUnnestPlain", "insertValues", "upsertUnprepared", "upsertPrepared", "upsertNoMerge", "upsertSumsOnly",
] as const;
type BreakdownVariant = (typeof BREAKDOWN_VARIANTS)[number];

const BREAKDOWN_LABEL: Record<BreakdownVariant, string> = {
  storeWrite: "`store.write(batch)`, end to end",
  inSitu: "`writeBatch` in `sql.begin` (BEGIN … COMMIT, both statements)",
  insertUnguarded: `what-if: the INSERT without ${ID_GUARD} (ON CONFLICT, RETURNING kept)`,
  insertUnnestPlain: "what-if: plain `INSERT … SELECT FROM unnest` (no id guard, ON CONFLICT or RETURNING)",
  insertValues: "raw multi-row `INSERT … VALUES` of the same rows (prepared)",
  upsertUnprepared: `the rollup upsert alone, unprepared${UPSERT_PREPARED ? "" : " (as writeBatch sends it)"}`,
  upsertPrepared: `the rollup upsert alone, prepared${UPSERT_PREPARED ? " (as writeBatch sends it)" : ""}`,
  upsertNoMerge: "what-if: upsert without the sketch merge (sketch overwritten)",
  upsertSumsOnly: "what-if: upsert of the sums only (no sketch column)",
};

interface BreakdownRun {
  /** ms per batch, per timed thing. */
  total: number[];
  insert?: number[];
  upsert?: number[];
  /** In writeBatch's transaction: from BEGIN to the INSERT (the BEGIN round trip, sorting, column arrays). */
  before?: number[];
  /** Between the INSERT's answer and the upsert (rollup groups and the statement built in JS). */
  between?: number[];
  /** From the upsert's answer to COMMIT's. */
  after?: number[];
}

async function breakdownRun(variant: BreakdownVariant, schema: string, batches: StoredRecord[][]): Promise<BreakdownRun> {
  await reset(schema);
  const run: BreakdownRun = { total: [] };
  if (variant === "storeWrite") {
    const store = openPostgresStore({ url: server.url, schema, retentionDays: 0 });
    await store.ready;
    for (const batch of batches) {
      const t0 = ms();
      const result = await store.write(batch);
      run.total.push(ms() - t0);
      if (!result.ok) throw result.error;
    }
    await store.close();
    return run;
  }
  const sql = await pool(schema);
  run.insert = [];
  run.upsert = [];
  for (const batch of batches) {
    const t = await timedBatch(variant, sql, batch, false);
    run.total.push(t.total);
    run.insert.push(t.insert);
    run.upsert.push(t.upsert);
    if (t.gaps !== undefined) {
      (run.before ??= []).push(t.gaps[0]);
      (run.between ??= []).push(t.gaps[1]);
      (run.after ??= []).push(t.gaps[2]);
    }
  }
  return run;
}

const ROLLBACK = new Error("rolled back on purpose");

/**
 * One batch in one transaction, as `variant` writes it: ms for the whole transaction, the
 * executions INSERT and the rollup upsert (0 where the variant has none). `rollback` undoes
 * it (timings are taken before), so a large table stays as loaded.
 */
async function timedBatch(variant: Exclude<BreakdownVariant, "storeWrite">, sql: Sql, batch: StoredRecord[], rollback: boolean): Promise<{ total: number; insert: number; upsert: number; gaps?: [number, number, number] }> {
  const timings: Timing[] = [];
  let insert = 0;
  let upsert = 0;
  const t0 = ms();
  let total = 0;
  const body = async (tx: TransactionSql) => {
    if (variant === "inSitu") {
      await writeBatch(timedTx(tx, timings), batch, { copy: false });
      const isUpsert = (text: string) => text.includes("tally_sketch_merge") || text.includes("INSERT INTO daily_usage");
      insert = timings.filter((t) => !isUpsert(t.sql) && /INSERT INTO executions \(/.test(t.sql)).reduce((a, t) => a + t.ms, 0);
      upsert = timings.filter((t) => isUpsert(t.sql)).reduce((a, t) => a + t.ms, 0);
      if (timings.length !== 2) throw new Error(`writeBatch sent ${timings.length} statements, expected the INSERT and the upsert: ${timings.map((t) => t.sql.slice(0, 40)).join(" | ")}`);
    } else {
      const rows = batch.map((r) => r.row as ExecutionRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const s = ms();
      if (variant.startsWith("insert")) {
        if (variant === "insertValues") {
          await tx.unsafe(multiRowInsert("executions", rows.length), rows.flatMap((r) => COLUMNS.map((c) => rowField(r, c))) as never[], { prepare: true });
        } else {
          const text = variant === "insertUnguarded"
            ? insertRowsSql(EXECUTIONS, false)
            : `INSERT INTO executions (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM ${unnestFrom(EXECUTIONS.columns, 1)}`;
          await tx.unsafe(text, COLUMNS.map((c) => rows.map((r) => rowField(r, c))) as never[], { prepare: true });
        }
        insert = ms() - s;
      } else {
        const shape: UpsertShape = variant === "upsertNoMerge" ? "noMerge" : variant === "upsertSumsOnly" ? "sumsOnly" : "tally";
        const statement = upsertStatement(rollupGroups(rows), shape);
        const prepare = variant === "upsertPrepared" || (variant !== "upsertUnprepared" && UPSERT_PREPARED);
        await tx.unsafe(statement.sql, statement.params as never[], { prepare });
        upsert = ms() - s;
      }
    }
    if (rollback) {
      total = ms() - t0;
      throw ROLLBACK;
    }
  };
  try {
    await sql.begin(body);
    total = ms() - t0;
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  if (variant !== "inSitu" || rollback) return { total, insert, upsert };
  const [first, second] = timings as [Timing, Timing];
  return { total, insert, upsert, gaps: [first.start - t0, second.start - first.end, t0 + total - second.end] };
}

const FIELD_OF: Record<string, keyof ExecutionRow> = {
  id: "id", created_at: "createdAt", delivery_id: "deliveryId", repo: "repo", pr_number: "prNumber", event_type: "eventType", provider: "provider",
  model: "model", input_tokens: "inputTokens", output_tokens: "outputTokens", cache_read_tokens: "cacheReadTokens", cache_creation_tokens: "cacheCreationTokens",
  duration_ms: "durationMs", cost_usd: "costUsd", cost_source: "costSource", conclusion: "conclusion", session_id: "sessionId", num_turns: "numTurns",
  stop_reason: "stopReason", attributes: "attributes",
};
function rowField(row: ExecutionRow, column: string): string | number | null {
  return row[FIELD_OF[column]!] as string | number | null;
}

/** `count` batches of BATCH fresh executions (new ids, this instant), as the store receives them. */
function makeBatches(count: number): StoredRecord[][] {
  const out: StoredRecord[][] = [];
  for (let b = 0; b < count; b++) {
    const batch: StoredRecord[] = [];
    for (let j = 0; j < BATCH; j++) batch.push({ kind: "execution", row: executionRow(b * BATCH + j) });
    out.push(batch);
  }
  return out;
}

async function partBreakdown(): Promise<Record<string, unknown>> {
  const schemaOf = (v: BreakdownVariant) => `bench_pg_bd_${v.toLowerCase()}`;
  for (const v of BREAKDOWN_VARIANTS) await freshSchema(schemaOf(v));
  const warm = makeBatches(10);
  for (const v of BREAKDOWN_VARIANTS) await breakdownRun(v, schemaOf(v), warm);
  const runs: Record<string, BreakdownRun[]> = Object.fromEntries(BREAKDOWN_VARIANTS.map((v) => [v, []]));
  let groupsPerBatch = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const batches = makeBatches(BATCHES); // fresh ids and times per round; every variant writes the same rows
    const groups = rollupGroups(batches[0]!.map((r) => r.row as ExecutionRow));
    groupsPerBatch = [...groups.values()].reduce((a, g) => a + g.size, 0);
    const order = BREAKDOWN_VARIANTS.map((_, k) => BREAKDOWN_VARIANTS[(k + round) % BREAKDOWN_VARIANTS.length]!);
    for (const v of order) runs[v]!.push(await breakdownRun(v, schemaOf(v), batches));
    log(`  breakdown round ${round + 1}: store.write p50 ${fmt(median(runs.storeWrite!.at(-1)!.total), 2)} ms per ${BATCH}-row batch`);
  }
  // Per variant: the median over rounds of each round's median ms per batch.
  const med = (v: BreakdownVariant, key: keyof BreakdownRun) => {
    const per = runs[v]!.map((r) => r[key]).filter((x): x is number[] => x !== undefined && x.length > 0);
    return per.length === 0 ? Number.NaN : median(per.map((x) => median(x)));
  };
  const p95 = (v: BreakdownVariant, key: keyof BreakdownRun) => median(runs[v]!.map((r) => percentile(sortedCopy(r[key] ?? []), 95)));
  const totalWrite = med("storeWrite", "total");
  const rowsOut: (string | number)[][] = [];
  const line = (label: string, value: number, p95value: number) => rowsOut.push([label, fmt(value, 2), fmt(p95value, 2), fmt((value * 1000) / BATCH, 2), `${fmt((100 * value) / totalWrite, 0)} %`]);
  line(BREAKDOWN_LABEL.storeWrite, totalWrite, p95("storeWrite", "total"));
  line(BREAKDOWN_LABEL.inSitu, med("inSitu", "total"), p95("inSitu", "total"));
  line(`… of which the executions INSERT (unnest, ${ID_GUARD}, ON CONFLICT, RETURNING)`, med("inSitu", "insert"), p95("inSitu", "insert"));
  line(`… of which the rollup upsert (4 rollups, ${groupsPerBatch} groups)`, med("inSitu", "upsert"), p95("inSitu", "upsert"));
  line("… from BEGIN to the INSERT (BEGIN's round trip; sorting, column arrays in JS)", med("inSitu", "before"), p95("inSitu", "before"));
  line("… between the two statements (rollup groups and the upsert built in JS)", med("inSitu", "between"), p95("inSitu", "between"));
  line("… COMMIT", med("inSitu", "after"), p95("inSitu", "after"));
  for (const v of ["insertUnguarded", "insertUnnestPlain", "insertValues"] as const) line(BREAKDOWN_LABEL[v], med(v, "insert"), p95(v, "insert"));
  for (const v of ["upsertUnprepared", "upsertPrepared", "upsertNoMerge", "upsertSumsOnly"] as const) line(BREAKDOWN_LABEL[v], med(v, "upsert"), p95(v, "upsert"));
  log(`\n### 2. breakdown: ${BATCHES} batches of ${BATCH} executions per run, median of ${ROUNDS} rounds (each round: the median batch)\n`);
  log(table(["ms per batch", "p50", "p95", "µs per row", "÷ store.write"], rowsOut));
  log(`\nstore.write direct: ${fmt((BATCH * 1000) / totalWrite)} rows/s; rollup groups per batch: ${groupsPerBatch}`);
  return { batch: BATCH, batches: BATCHES, rounds: ROUNDS, groupsPerBatch, runs, table: rowsOut };
}

// ---------------------------------------------------------------------------------------------
// Part 3: a 30-day report on a large table

const REPORT_SCHEMA = "bench_pg_report";
const REPORT_SPAN_DAYS = 90;
const REPOS = Array.from({ length: 20 }, (_, i) => `acme/service-${i}`);
const MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-sonnet-4-6"];
const EVENTS = ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"];
const CONCLUSIONS = ["success", "success", "success", "success", "failure", "error"];

/** A 32-bit integer hash (lowbias32), so the fields of row j look random but are reproducible. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The fields of report row j that the rollups need (the rest are derived in reportLine). */
type ReportRow = RolledUpExecution;

function reportRow(j: number, createdAt: number): ReportRow {
  const h = mix(j);
  const g = mix(j ^ 0x9e3779b9);
  const inputTokens = 500 + (g % 20_000);
  const outputTokens = 100 + ((g >>> 8) % 4000);
  return {
    createdAt, repo: REPOS[h % 20]!, eventType: EVENTS[(h >>> 9) % 3]!, provider: "anthropic", model: MODELS[(h >>> 5) % 4]!, conclusion: CONCLUSIONS[(h >>> 13) % 6]!,
    inputTokens, outputTokens, cacheReadTokens: (h >>> 3) % 50_000, cacheCreationTokens: (g >>> 4) % 5000,
    durationMs: 1500 + Math.floor(((g >>> 10) % 1000) ** 2 / 8.5), costUsd: Math.round(inputTokens * 3 + outputTokens * 15) / 1e6, costSource: "reported",
  };
}

/** Row j of the report table as a COPY line; ids are UUIDv7-shaped from created_at and j, so id order is time order. */
function reportLine(j: number, r: ReportRow): string {
  const ts = r.createdAt.toString(16).padStart(12, "0");
  const c = j.toString(16).padStart(18, "0");
  const id = `${ts.slice(0, 8)}-${ts.slice(8)}-7${c.slice(0, 3)}-8${c.slice(3, 6)}-${c.slice(6)}`;
  return `${id}\t${r.createdAt}\td-${j}\t${r.repo}\t${1 + (j % 500)}\t${r.eventType}\t${r.provider}\t${r.model}\t${r.inputTokens}\t${r.outputTokens}\t${r.cacheReadTokens}\t${r.cacheCreationTokens}\t${r.durationMs}\t${r.costUsd}\t${r.costSource}\t${r.conclusion}\t\\N\t${1 + (j % 10)}\tend_turn\t\\N\n`;
}

/** A rollup being filled: groups of the open hour or day, and lines of closed ones waiting to be COPYed. */
interface RollupOut {
  columns: RollupColumns;
  groups: Groups;
  stream: Writable;
  done: Promise<unknown>;
  pending: string;
  rows: number;
}

/**
 * The five execution rollups, filled while the raw rows stream by in time order, with the
 * store's own sums and sketches: each row goes into its hourly_usage group (rollup-sums.ts
 * `add`, the bucket of duration-buckets.ts); when the hour closes, its groups are written and
 * summed into hourly_model_usage and the day's daily_usage and daily_model_usage groups.
 */
class RollupBuilder {
  private hour = Number.NaN;
  private day = "";

  constructor(
    private readonly hourly: RollupOut,
    private readonly hourlyModel: RollupOut,
    private readonly daily: RollupOut,
    private readonly dailyModel: RollupOut,
    private readonly quarterHourly: RollupOut,
  ) {}

  add(r: ReportRow): void {
    const hour = floorTo(r.createdAt, HOUR_MS);
    if (hour !== this.hour) {
      this.closeHour();
      const day = utcDay(hour);
      if (day !== this.day) this.closeDay();
      this.hour = hour;
      this.day = day;
    }
    add(this.hourly.groups, [String(hour), r.repo, r.eventType, r.provider, r.model, r.conclusion], usageSums(r), r.durationMs);
    add(this.quarterHourly.groups, [String(floorTo(r.createdAt, QUARTER_HOUR_MS))], modelUsageSums(r), r.durationMs);
  }

  private closeHour(): void {
    for (const g of this.hourly.groups.values()) {
      const [hour, repo, eventType, provider, model, conclusion] = g.key as [string, string, string, string, string, string];
      const [runs, ...tokens] = g.sums as [number, ...number[]];
      const modelSums = [runs, conclusion === "success" ? runs : 0, conclusion === "failure" ? runs : 0, conclusion === "error" ? runs : 0, ...tokens];
      merge(this.hourlyModel.groups, [hour, repo, provider, model], modelSums, g.buckets);
      merge(this.daily.groups, [this.day, repo, eventType, provider, model, conclusion], g.sums, g.buckets);
      merge(this.dailyModel.groups, [this.day, repo, provider, model], modelSums, g.buckets);
    }
    close(this.hourly);
    close(this.hourlyModel);
    close(this.quarterHourly);
  }

  private closeDay(): void {
    close(this.daily);
    close(this.dailyModel);
  }

  outputs(): RollupOut[] {
    return [this.hourly, this.hourlyModel, this.daily, this.dailyModel, this.quarterHourly];
  }

  /** Sends the closed groups' lines. */
  async drain(): Promise<void> {
    for (const out of this.outputs()) {
      const chunk = out.pending;
      out.pending = "";
      if (chunk.length > 0) await write(out.stream, chunk);
    }
  }

  async end(): Promise<void> {
    this.closeHour();
    this.closeDay();
    await this.drain();
    for (const out of this.outputs()) {
      out.stream.end();
      await out.done;
    }
  }
}

/** Turns a rollup's open groups into COPY lines (keys, sums, sketch). */
function close(out: RollupOut): void {
  for (const g of out.groups.values()) out.pending += `${g.key.join("\t")}\t${g.sums.join("\t")}\t${encodePairs(g.buckets)}\n`;
  out.rows += out.groups.size;
  out.groups = new Groups();
}

async function loadReportTable(n: number): Promise<Record<string, unknown>> {
  const admin = await pool();
  const [existing] = await admin.unsafe(`SELECT value FROM "${REPORT_SCHEMA}".tally_meta WHERE key = 'bench_rows'`).catch(() => [undefined]);
  if (existing !== undefined && Number(existing.value) === n && process.env.PG_URL) {
    const [meta] = await admin.unsafe(`SELECT value FROM "${REPORT_SCHEMA}".tally_meta WHERE key = 'bench_load'`);
    log(`  reusing ${REPORT_SCHEMA} (${fmt(n)} rows)`);
    return { reused: true, ...(JSON.parse(String(meta?.value ?? "{}")) as Record<string, unknown>) };
  }
  await freshSchema(REPORT_SCHEMA);
  const sql = await pool(REPORT_SCHEMA);
  const end = Date.now();
  const start = end - REPORT_SPAN_DAYS * DAY_MS;
  const months: number[] = [];
  for (let t = start; t < end + DAY_MS * 31; t += DAY_MS * 28) months.push(t);
  const partitions = new Partitions(sql, REPORT_SCHEMA);
  await partitions.refresh();
  await partitions.ensure([...months, end]);

  // The raw table and its id claims (`executions_ids`, at commits that have it) are loaded
  // without their indexes, which are built again afterwards with the definitions the migration
  // gave them (read back from the catalog).
  const [claims] = await sql.unsafe(`SELECT to_regclass('"${REPORT_SCHEMA}".executions_ids') IS NOT NULL AS present`);
  const rawTables = claims?.present === true ? ["executions", "executions_ids"] : ["executions"];
  const rebuild: string[] = [];
  for (const t of rawTables) {
    const [pk] = await sql.unsafe(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"${REPORT_SCHEMA}".${t}'::regclass AND contype = 'p'`);
    if (pk === undefined) throw new Error(`${t} has no primary key`);
    const indexes = await sql.unsafe(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${REPORT_SCHEMA}' AND tablename = '${t}' AND indexname <> $1`, [String(pk.conname)] as never[]);
    await sql.unsafe(`ALTER TABLE ${t} DROP CONSTRAINT "${pk.conname}"`);
    rebuild.push(`ALTER TABLE ${t} ADD CONSTRAINT "${pk.conname}" ${pk.def}`);
    for (const index of indexes) {
      await sql.unsafe(`DROP INDEX "${index.indexname}"`);
      // A partitioned table's index reads back as `CREATE INDEX … ON ONLY parent`, which would leave the partitions without one.
      rebuild.push(String(index.indexdef).replace(" ON ONLY ", " ON "));
    }
  }

  // COPYs at once, one connection each: the raw rows, their id claims, the five execution rollups.
  const loader = await openPool({ url: server.url, sessionSchema: REPORT_SCHEMA, maxConnections: 7, connectTimeoutSeconds: 10 });
  const t0 = ms();
  const raw = await openCopy(loader, "executions");
  const ids = rawTables.includes("executions_ids") ? await openCopy(loader, "executions_ids", "id, created_at") : null;
  const outs: RollupOut[] = [];
  for (const columns of [HOURLY_USAGE, HOURLY_MODEL_USAGE, DAILY_USAGE, DAILY_MODEL_USAGE, QUARTER_HOUR_USAGE]) {
    const names = [...columns.keys, ...columns.sums].map(([c]) => c).join(", ");
    outs.push({ columns, groups: new Groups(), ...(await openCopy(loader, columns.table, `${names}, duration_buckets`)), pending: "", rows: 0 });
  }
  const rollups = new RollupBuilder(outs[0]!, outs[1]!, outs[2]!, outs[3]!, outs[4]!);
  const span = end - start;
  const step = 10_000;
  for (let i = 0; i < n; i += step) {
    let chunk = "";
    let idChunk = "";
    for (let j = i; j < Math.min(n, i + step); j++) {
      const row = reportRow(j, start + Math.floor((j * span) / n));
      const line = reportLine(j, row);
      chunk += line;
      if (ids !== null) idChunk += `${line.slice(0, line.indexOf("\t", 37))}\n`; // id (36 characters) and created_at
      rollups.add(row);
    }
    await write(raw.stream, chunk);
    if (ids !== null) await write(ids.stream, idChunk);
    await rollups.drain();
    if (i % 1_000_000 === 0 && i > 0) log(`  loaded ${fmt(i)} rows, ${fmt(i / ((ms() - t0) / 1000))} rows/s`);
  }
  for (const copy of ids === null ? [raw] : [raw, ids]) {
    copy.stream.end();
    await copy.done;
  }
  await rollups.end();
  await loader.end({ timeout: 5 });
  const copySeconds = (ms() - t0) / 1000;
  const rollupRows = Object.fromEntries(outs.map((o) => [o.columns.table, o.rows]));
  log(`  COPY of ${fmt(n)} rows into ${rawTables.join(" and ")} (no indexes) and their rollups (${JSON.stringify(rollupRows)}): ${fmt(copySeconds, 1)} s (${fmt(n / copySeconds)} rows/s)`);
  const t1 = ms();
  await sql.begin(async (tx) => {
    await tx.unsafe("SET LOCAL maintenance_work_mem = '1GB'");
    for (const statement of rebuild) await tx.unsafe(statement);
  });
  const indexSeconds = (ms() - t1) / 1000;
  log(`  indexes built again: ${fmt(indexSeconds, 1)} s`);
  const t2 = ms();
  await sql.unsafe("VACUUM ANALYZE");
  const vacuumSeconds = (ms() - t2) / 1000;
  const sizes = await sql.unsafe(`SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes, c.reltuples AS rows FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = '${REPORT_SCHEMA}' AND c.relkind IN ('r', 'p') ORDER BY bytes DESC`);
  const [total] = await sql.unsafe(`SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${REPORT_SCHEMA}' AND c.relkind = 'r'`);
  const loaded = { rows: n, spanDays: REPORT_SPAN_DAYS, start, end, copySeconds, indexSeconds, vacuumSeconds, rollupRows, totalGiB: Number(total?.bytes ?? 0) / 2 ** 30, sizes: sizes.slice(0, 12) };
  await sql.unsafe("INSERT INTO tally_meta (key, value) VALUES ('bench_rows', $1), ('bench_load', $2)", [String(n), JSON.stringify(loaded)] as never[]);
  log(`  VACUUM ANALYZE: ${fmt(vacuumSeconds, 1)} s; schema size ${fmt(loaded.totalGiB, 2)} GiB`);
  return loaded;
}

async function partReport(): Promise<Record<string, unknown>> {
  const loaded = await loadReportTable(REPORT_N);
  const store = openPostgresStore({ url: server.url, schema: REPORT_SCHEMA, retentionDays: 0 });
  await store.ready;
  const now = Date.now();
  const rolling = { since: now - 30 * DAY_MS, until: now };
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const aligned = { since: today - 30 * DAY_MS, until: today };
  const specs: { name: string; spec: UsageReportSpec }[] = [
    { name: "by day, last 30 d (rolling: hour and raw edges)", spec: { kind: "usage", groupBy: ["day"], range: rolling } },
    { name: "by day, last 30 d, percentiles: false", spec: { kind: "usage", groupBy: ["day"], range: rolling, percentiles: false } },
    { name: "by repo × model, last 30 d", spec: { kind: "usage", groupBy: ["repo", "model"], range: rolling } },
    { name: "by repo × model, last 30 d, percentiles: false", spec: { kind: "usage", groupBy: ["repo", "model"], range: rolling, percentiles: false } },
    { name: "by day, 30 whole UTC days (daily rollups only)", spec: { kind: "usage", groupBy: ["day"], range: aligned } },
  ];
  const sql = await pool(REPORT_SCHEMA);
  const checks: Record<string, unknown>[] = [];
  for (const range of [rolling, aligned]) {
    const [row] = await sql.unsafe("SELECT count(*) AS n FROM executions WHERE created_at >= $1 AND created_at < $2", [range.since, range.until] as never[]);
    checks.push({ range, rawRuns: Number(row?.n) });
  }
  const cold: number[] = [];
  const times: number[][] = specs.map(() => []);
  const answers: Record<string, unknown>[] = [];
  for (const [k, { spec }] of specs.entries()) {
    const t0 = ms();
    const report = await store.report(spec);
    cold.push(ms() - t0);
    const expected = (checks[spec.range === aligned ? 1 : 0] as { rawRuns: number }).rawRuns;
    if (report.totals.runs !== expected) console.error(`  warning: ${specs[k]!.name}: report counts ${report.totals.runs} runs, raw rows ${expected}`);
    answers.push({ name: specs[k]!.name, source: report.source, rows: report.rows.length, totalRuns: report.totals.runs, p50: report.totals.p50DurationMs, p95: report.totals.p95DurationMs });
  }
  for (let call = 0; call < REPORT_CALLS; call++) {
    for (const [k, { spec }] of specs.entries()) {
      const t0 = ms();
      await store.report(spec);
      times[k]!.push(ms() - t0);
    }
  }
  const exact: number[] = [];
  for (let call = 0; call < EXACT_CALLS; call++) {
    const t0 = ms();
    await store.report({ kind: "usage", groupBy: ["day"], range: rolling, exact: true });
    exact.push(ms() - t0);
  }
  await store.close();
  const rows = specs.map(({ name }, k) => {
    const sorted = sortedCopy(times[k]!);
    return [name, fmt(percentile(sorted, 50), 1), fmt(percentile(sorted, 95), 1), fmt(cold[k]!, 1), String((answers[k] as { rows: number }).rows)];
  });
  if (exact.length > 0) rows.push([`for scale: by day, last 30 d, \`exact: true\` (raw scan), ${exact.length} calls`, fmt(median(exact), 0), fmt(max(exact), 0), "", ""]);
  log(`\n### 3. report: ${fmt(REPORT_N)} runs over ${REPORT_SPAN_DAYS} days, ${REPORT_CALLS} calls per spec (interleaved, after one warm-up)\n`);
  log(table(["usage report", "p50 ms", "p95 ms", "first call ms", "rows"], rows));
  log(`\nanswers: ${JSON.stringify(answers)}\nraw runs in range: ${JSON.stringify(checks)}`);
  const bigWrites = await bigTableWrites();
  return { loaded, specs: specs.map((s) => s.name), times, cold, exact, answers, checks, table: rows, bigWrites };
}

/**
 * Batches into the large table, each transaction rolled back: the write path once the raw
 * table has months of rows in its partitions and its id claims (or, at earlier commits, the
 * NOT EXISTS check probes each partition) and
 * the rollups hold 90 days of groups.
 */
async function bigTableWrites(): Promise<Record<string, unknown>> {
  const sql = await pool(REPORT_SCHEMA);
  const [partitionCount] = await sql.unsafe("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'executions'::regclass");
  const variants = ["inSitu", "insertUnguarded"] as const;
  const times: Record<string, { total: number[]; insert: number[]; upsert: number[] }> = Object.fromEntries(variants.map((v) => [v, { total: [], insert: [], upsert: [] }]));
  await timedBatch("inSitu", sql, makeBatches(1)[0]!, true); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const batches = makeBatches(BIG_BATCHES);
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      for (const batch of batches) {
        const t = await timedBatch(v, sql, batch, true);
        times[v]!.total.push(t.total);
        times[v]!.insert.push(t.insert);
        times[v]!.upsert.push(t.upsert);
      }
    }
  }
  const rows = [
    [`\`writeBatch\` transaction (rolled back), ${fmt(REPORT_N)}-row table, ${partitionCount?.n} partitions`, fmt(median(times.inSitu!.total), 2), fmt(percentile(sortedCopy(times.inSitu!.total), 95), 2)],
    [`… the executions INSERT (${ID_GUARD}, ON CONFLICT, RETURNING)`, fmt(median(times.inSitu!.insert), 2), fmt(percentile(sortedCopy(times.inSitu!.insert), 95), 2)],
    ["… the rollup upsert", fmt(median(times.inSitu!.upsert), 2), fmt(percentile(sortedCopy(times.inSitu!.upsert), 95), 2)],
    [`what-if: the INSERT without ${ID_GUARD}, same table`, fmt(median(times.insertUnguarded!.insert), 2), fmt(percentile(sortedCopy(times.insertUnguarded!.insert), 95), 2)],
  ];
  log(`\n### 3b. ${BATCH}-row batches into the ${fmt(REPORT_N)}-row table (${ROUNDS} × ${BIG_BATCHES} per variant, rolled back)\n`);
  log(table(["ms per batch", "p50", "p95"], rows));
  return { partitions: Number(partitionCount?.n), batches: BIG_BATCHES, times, table: rows };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`# PostgreSQL store bench\n\n${machineLine(machine)}`);
  const admin = await pool();
  const [info] = await admin.unsafe(`SELECT version() AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync,
    current_setting('full_page_writes') AS fpw, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem,
    current_setting('max_wal_size') AS max_wal_size, current_setting('lc_collate') AS collate`);
  log(`server: ${server.dir === null ? "PG_URL" : "scripts/test-postgres.sh"}; ${JSON.stringify(info)}\n`);
  const results: Record<string, unknown> = { machine, server: info, startedServer: server.dir !== null, params: { N, ROUNDS, BATCH, BATCHES, REPORT_N, REPORT_CALLS, EXACT_CALLS, BIG_BATCHES } };
  const began = ms();
  if (PARTS.has("ingest")) results.ingest = await partIngest();
  if (PARTS.has("breakdown")) results.breakdown = await partBreakdown();
  if (PARTS.has("report")) results.report = await partReport();
  results.seconds = (ms() - began) / 1000;
  results.loadAtEnd = loadNow();
  log(`\ntotal ${fmt((ms() - began) / 1000, 0)} s; load at end ${loadNow().join(" ")}`);
  log(`results: ${writeResults("postgres", results)}`);
  if (server.dir === null) {
    for (const schema of [...Object.values(INGEST_SCHEMA), ...BREAKDOWN_VARIANTS.map((v) => `bench_pg_bd_${v.toLowerCase()}`)]) {
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }
}

try {
  await main();
} finally {
  await Promise.all([...pools.values()].map((p) => p.end({ timeout: 5 })));
  stopOnce();
}
