/**
 * From how many rows COPY pays (src/store/postgres/write.ts COPY_MIN_ROWS): writes of N new
 * executions through the store's own `writeBatch` in a transaction, by COPY (whatever N) and
 * row by row, on two schemas of one server, sizes and paths interleaved; median ms per write.
 *
 *   PG_URL=postgres://… bun bench/postgres-copy-threshold.ts
 *   bun bench/postgres-copy-threshold.ts        (starts a throwaway server with scripts/test-postgres.sh)
 *   XO_ROUNDS=30 XO_SIZES=25,50,100,200,400,1000
 */
import { spawnSync } from "node:child_process";
import { uuidv7 } from "uuidv7";
import type { Batch } from "../src/core/rows.ts";
import { openPool, transaction } from "../src/store/postgres/connection.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { Partitions } from "../src/store/postgres/partitions.ts";
import { writeBatch } from "../src/store/postgres/write.ts";
import { envInt, fmt, machineInfo, machineLine, makeExecution, median, rowValues, table, writeResults } from "./lib.ts";

const ROUNDS = envInt("XO_ROUNDS", 30);
const SIZES = (process.env.XO_SIZES ?? "25,50,100,200,400,1000").split(",").map(Number);

let url = process.env.PG_URL ?? "";
let stop = (): void => {};
if (url === "") {
  const started = spawnSync("bash", ["scripts/test-postgres.sh"], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`could not start PostgreSQL: ${started.stderr}`);
  const [startedUrl, dir] = started.stdout.trim().split(" ") as [string, string];
  url = startedUrl;
  stop = () => void spawnSync("bash", ["scripts/test-postgres.sh", "stop", dir]);
}

/** `n` fresh executions as the store receives them (Tally's UUIDv7 ids, now). */
function batch(n: number, from: number): Batch {
  return Array.from({ length: n }, (_, k) => {
    const v = rowValues(uuidv7(), Date.now(), makeExecution(from + k, true));
    return {
      kind: "execution",
      row: {
        id: v[0] as string, createdAt: v[1] as number, deliveryId: v[2] as string, repo: v[3] as string, prNumber: v[4] as number, eventType: v[5] as string,
        provider: v[6] as string, model: v[7] as string, inputTokens: v[8] as number, outputTokens: v[9] as number, cacheReadTokens: v[10] as number,
        cacheCreationTokens: v[11] as number, durationMs: v[12] as number, costUsd: v[13] as number, costSource: "reported", conclusion: v[15] as string,
        sessionId: v[16] as string, numTurns: v[17] as number, stopReason: v[18] as string, attributes: null,
      },
    };
  });
}

try {
  const paths = { copy: "bench_xo_copy", rows: "bench_xo_rows" } as const;
  const pools = new Map<string, Awaited<ReturnType<typeof openPool>>>();
  for (const schema of Object.values(paths)) {
    const admin = await openPool({ url, sessionSchema: "public", maxConnections: 1, connectTimeoutSeconds: 10 });
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    const store = openPostgresStore({ url, schema, retentionDays: 0 }); // migrated, this month's partitions made
    await store.ready;
    await store.close();
    const sql = await openPool({ url, sessionSchema: schema, maxConnections: 1, connectTimeoutSeconds: 10 });
    await new Partitions(sql, schema).ensure([Date.now()]);
    pools.set(schema, sql);
  }
  const times = new Map<string, number[]>();
  let next = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of SIZES) {
      for (const [path, schema] of Object.entries(paths)) {
        const rows = batch(n, next);
        next += n;
        const t0 = performance.now();
        const outcome = await transaction(pools.get(schema)!, "", (tx) => writeBatch(tx, rows, { copy: path === "copy", copyMinRows: 1 }));
        const ms = performance.now() - t0;
        if (outcome.inserted !== n) throw new Error(`${path} wrote ${outcome.inserted} of ${n}`);
        if (round > 0) (times.get(`${path} ${n}`) ?? times.set(`${path} ${n}`, []).get(`${path} ${n}`)!).push(ms);
      }
    }
  }
  const rows = SIZES.map((n) => {
    const copy = median(times.get(`copy ${n}`)!);
    const byRow = median(times.get(`rows ${n}`)!);
    return [String(n), fmt(byRow, 2), fmt(copy, 2), `${fmt(byRow / copy, 2)}×`];
  });
  console.log(machineLine(machineInfo()));
  console.log(`\nwriteBatch of N new executions in a transaction, median ms of ${ROUNDS - 1} rounds (the first dropped)\n`);
  console.log(table(["N", "row by row", "COPY", "COPY's gain"], rows));
  writeResults("postgres-copy-threshold", { rounds: ROUNDS, sizes: SIZES, medians: Object.fromEntries([...times].map(([k, v]) => [k, median(v)])) });
  await Promise.all([...pools.values()].map((p) => p.end()));
} finally {
  stop();
}
