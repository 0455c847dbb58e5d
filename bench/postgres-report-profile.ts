/**
 * Where a PostgreSQL report's time goes, statement by statement: runs the 30-day usage reports
 * of `bench/postgres.ts` part 3 against its loaded schema (`bench_pg_report`, 10M runs) and
 * prints each statement's time and row count, slowest first, with the JS time between them.
 * Run: `PG_URL=postgres://… bun bench/postgres-report-profile.ts` after `PG_PARTS=report bun bench/postgres.ts`
 * has loaded the table. `ROUNDS=5` (default), `SHAPE=repo` picks the shapes whose name holds it.
 */
import { reportProgram } from "../src/report/report-program.ts";
import { runAsyncProgram, type SqlQuery, type SqlRows } from "../src/report/sql/query.ts";
import { openPool } from "../src/store/postgres/connection.ts";
import { postgresDialect } from "../src/store/postgres/dialect.ts";
import type { UsageReportSpec } from "../src/report/spec.ts";

const url = process.env.PG_URL;
if (!url) throw new Error("PG_URL=postgres://… is required (a server with bench/postgres.ts's report schema loaded)");
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DAY_MS = 86_400_000;
const sql = await openPool({ url, sessionSchema: "bench_pg_report", maxConnections: 1, connectTimeoutSeconds: 10 });
const now = Date.now();
const rolling = { since: now - 30 * DAY_MS, until: now };
const shapes: { name: string; spec: UsageReportSpec }[] = [
  { name: "by day, last 30 d", spec: { kind: "usage", groupBy: ["day"], range: rolling } },
  { name: "by day, last 30 d, percentiles: false", spec: { kind: "usage", groupBy: ["day"], range: rolling, percentiles: false } },
  { name: "by repo × model, last 30 d", spec: { kind: "usage", groupBy: ["repo", "model"], range: rolling } },
];
for (const shape of shapes.filter((s) => !process.env.SHAPE || s.name.includes(process.env.SHAPE))) {
  const totals: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const log: { sql: string; ms: number; rows: number }[] = [];
    const t0 = performance.now();
    await sql.begin("isolation level repeatable read read only", (tx) =>
      runAsyncProgram(reportProgram(postgresDialect, shape.spec), async (q: SqlQuery) => {
        const t = performance.now();
        const rows = (await tx.unsafe(q.sql, q.params as never[], { prepare: true })) as unknown as SqlRows;
        log.push({ sql: q.sql.replace(/\s+/g, " ").replace(/\$\d+/g, "$").slice(0, 120), ms: performance.now() - t, rows: rows.length });
        return rows;
      }),
    );
    const total = performance.now() - t0;
    totals.push(total);
    if (round < ROUNDS - 1) continue;
    const sqlMs = log.reduce((s, e) => s + e.ms, 0);
    const median = [...totals].sort((a, b) => a - b)[Math.floor(totals.length / 2)]!;
    console.log(`\n## ${shape.name}: median ${median.toFixed(1)} ms of ${totals.length}; last: ${total.toFixed(1)} ms total, ${sqlMs.toFixed(1)} ms in ${log.length} statements (parsing included), ${(total - sqlMs).toFixed(1)} ms in the report's JS and BEGIN/COMMIT`);
    for (const e of [...log].sort((a, b) => b.ms - a.ms).slice(0, 10)) console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.rows).padStart(6)} rows  ${e.sql}`);
  }
}
await sql.end({ timeout: 5 });
