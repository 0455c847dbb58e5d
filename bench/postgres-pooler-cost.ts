/**
 * What a connection pooler costs ingest: `createTelemetry` → `openPostgresStore`, 100,000 runs
 * per variant, variants alternated, 3 rounds, medians: straight to the server (prepared
 * statements, COPY), straight but unprepared and row by row, through PgBouncer in
 * transaction mode as the store sets itself up there (unprepared, row by row), and through
 * it with COPY forced (no replayed ids here, so no COPY is refused).
 * Run: `bun bench/postgres-pooler-cost.ts postgres://…server postgres://…pgbouncer`
 * (a pooler: `bash scripts/test-pgbouncer.sh postgres://…server`, with default_pool_size raised).
 */
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { createTelemetry } from "../src/index.ts";
import { makeExecution } from "./lib.ts";
const [direct, pooler] = process.argv.slice(2) as [string | undefined, string | undefined];
if (!direct || !pooler) throw new Error("usage: bun bench/postgres-pooler-cost.ts postgres://…server postgres://…pgbouncer");
const N = 100_000;
const res: Record<string, number[]> = {};
const variants = [["direct", direct, undefined], ["direct-unprepared-rows", `${direct}?prepare=false`, false], ["pgbouncer", pooler, undefined], ["pgbouncer-copy", pooler, true]] as const;
for (let round = 0; round < 3; round++) for (const [name, url, copyOpt] of variants) {
  const store = openPostgresStore({ url, schema: `poolcost_${name.replace(/-/g, "_")}_${round}_${process.pid}`, retentionDays: 0, copy: copyOpt });
  await store.ready;
  const tel = createTelemetry({ store });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    while (tel.stats().queued > 9_000) await Bun.sleep(1);
    for (let j = i; j < i + 500; j++) tel.recordExecution(makeExecution(j));
  }
  await tel.flush();
  const s = (performance.now() - t0) / 1000;
  (res[name] ??= []).push(N / s);
  console.log(round, name, Math.round(N / s), "runs/s", "behindPooler", store.behindPooler, "written", tel.stats().written, "dropped", JSON.stringify(tel.stats().dropped));
  await tel.shutdown({ timeoutMs: 5000 });
}
for (const [k, v] of Object.entries(res)) console.log(k, "median", Math.round(v.sort((a, b) => a - b)[1]!));
