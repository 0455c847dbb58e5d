/**
 * Where a report's time goes, statement by statement: runs the three shapes (see
 * bench/report.ts) against the benchmark database and prints each statement's time and row
 * count, slowest first. Run: `BENCH_DB=/tmp/tally-bench-report-10000000.db bun bench/report-profile.ts`.
 */
import { Database } from "bun:sqlite";
import { reportProgram } from "../src/report/report-program.ts";
import { runProgram, type SqlQuery } from "../src/report/sql/query.ts";
import { sqliteDialect } from "../src/store/sqlite/dialect.ts";
import type { UsageDimension } from "../src/report/spec.ts";

const DB = process.env.BENCH_DB ?? "/tmp/tally-bench-report-10000000.db";
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12);
const db = new Database(DB, { readonly: true });
if (process.env.PRAGMAS) for (const p of process.env.PRAGMAS.split(";")) db.exec(`PRAGMA ${p}`);
const SHAPES: { name: string; groupBy: UsageDimension[]; days: number; timeZone: string }[] = [
  { name: "30 days by repo", groupBy: ["repo"], days: 30, timeZone: "UTC" },
  { name: "24 hours by hour", groupBy: ["hour"], days: 1, timeZone: "UTC" },
  { name: "30 days by day in Asia/Kolkata", groupBy: ["day"], days: 30, timeZone: "Asia/Kolkata" },
];
for (const shape of SHAPES.filter((s) => !process.env.SHAPE || s.name.includes(process.env.SHAPE))) {
  const totals: number[] = [];
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    const log: { sql: string; ms: number; rows: number }[] = [];
    const t0 = performance.now();
    const spec = { kind: "usage" as const, groupBy: shape.groupBy, range: { since: NOW - shape.days * DAY, until: NOW }, timeZone: shape.timeZone };
    runProgram(reportProgram(sqliteDialect, spec), (q: SqlQuery) => {
      const t = performance.now();
      const rows = db.prepare(q.sql).all(...(q.params as never[])) as Record<string, unknown>[];
      log.push({ sql: q.sql.replace(/\s+/g, " ").slice(0, 110), ms: performance.now() - t, rows: rows.length });
      return rows;
    });
    const total = performance.now() - t0;
    totals.push(total);
    if (round < Number(process.env.ROUNDS ?? 3) - 1) continue;
    const sqlMs = log.reduce((s, e) => s + e.ms, 0);
    const median = [...totals].sort((a, b) => a - b)[Math.floor(totals.length / 2)]!;
    console.log(`\n## ${shape.name}: median ${median.toFixed(1)} ms of ${totals.length}; last: ${total.toFixed(1)} ms total, ${sqlMs.toFixed(1)} ms in ${log.length} statements, ${(total - sqlMs).toFixed(1)} ms in JS`);
    const byShape = new Map<string, { ms: number; n: number; rows: number }>();
    for (const e of log) {
      const key = e.sql.replace(/\?/g, "?");
      const s = byShape.get(key) ?? { ms: 0, n: 0, rows: 0 };
      s.ms += e.ms; s.n++; s.rows += e.rows;
      byShape.set(key, s);
    }
    for (const [sql, s] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)) console.log(`${s.ms.toFixed(1).padStart(8)} ms ×${String(s.n).padStart(3)} ${String(s.rows).padStart(7)} rows  ${sql}`);
  }
}
