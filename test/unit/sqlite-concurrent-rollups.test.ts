/**
 * Several processes writing the same rollup rows at once (SQLite's lock serialises their
 * transactions; each re-reads a sketch another connection changed): afterwards every daily
 * rollup equals its raw rows, counts, sums and duration sketches alike, and so does every hour
 * the writers rolled up between them.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { addEncodedBuckets, durationBucket } from "../../src/core/duration-buckets.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterAll(removeTempDirs);

const WRITER = join(import.meta.dir, "../fixtures/sqlite/rollup-writer.ts");

type Row = Record<string, unknown>;

/** Per group: [runs or calls, sum of a measure, the duration sketch as bucket → count]. */
function summarise(rows: Row[], key: (r: Row) => string, count: (r: Row) => number, sum: (r: Row) => number, sketch: (r: Row, into: Map<number, number>) => void) {
  const out = new Map<string, { n: number; sum: number; buckets: Map<number, number> }>();
  for (const r of rows) {
    const k = key(r);
    let g = out.get(k);
    if (!g) out.set(k, (g = { n: 0, sum: 0, buckets: new Map() }));
    g.n += count(r);
    g.sum += sum(r);
    sketch(r, g.buckets);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, g]) => [k, g.n, g.sum, [...g.buckets.entries()].sort((a, b) => a[0] - b[0])]);
}

const rawBucket = (column: string) => (r: Row, into: Map<number, number>) => {
  const b = durationBucket(Number(r[column]));
  into.set(b, (into.get(b) ?? 0) + 1);
};
const rollupBucket = (r: Row, into: Map<number, number>) => addEncodedBuckets(into, r.duration_buckets);
const hourOf = (ms: unknown) => Math.floor(Number(ms) / 3_600_000) * 3_600_000;
const dayOf = (ms: unknown) => new Date(Number(ms)).toISOString().slice(0, 10);

describe("rollups under concurrent writer processes", () => {
  for (const writers of [2, 4]) {
    test(`${writers} processes on one file, the same rollup rows: rollups equal raw rows`, async () => {
      const path = join(tempDir(), "shared.db");
      openSqliteStore({ path, retentionDays: 0 }).close();
      const children = Array.from({ length: writers }, (_, w) => Bun.spawn([process.execPath, WRITER, path, String(w), "1000"], { stdout: "inherit", stderr: "inherit" }));
      expect(await Promise.all(children.map((c) => c.exited))).toEqual(Array(writers).fill(0));

      const db = new Database(path, { readonly: true });
      const executions = db.query("SELECT created_at, repo, input_tokens, duration_ms FROM executions").all() as Row[];
      const calls = db.query("SELECT created_at, tool_name, duration_ms FROM tool_calls").all() as Row[];
      expect(executions.length).toBe(writers * 1000);
      const runs = (r: Row) => Number(r.runs ?? 1);
      for (const table of ["daily_usage", "daily_model_usage"]) {
        expect(summarise(db.query(`SELECT day, repo, runs, input_tokens, duration_buckets FROM ${table}`).all() as Row[], (r) => `${r.day}|${r.repo}`, runs, (r) => Number(r.input_tokens), rollupBucket))
          .toEqual(summarise(executions, (r) => `${dayOf(r.created_at)}|${r.repo}`, () => 1, (r) => Number(r.input_tokens), rawBucket("duration_ms")));
      }
      expect(summarise(db.query("SELECT day, tool_name, calls, duration_ms, duration_buckets FROM daily_tool_usage").all() as Row[], (r) => `${r.day}|${r.tool_name}`, (r) => Number(r.calls), (r) => Number(r.duration_ms), rollupBucket))
        .toEqual(summarise(calls, (r) => `${dayOf(r.created_at)}|${r.tool_name}`, () => 1, (r) => Number(r.duration_ms), rawBucket("duration_ms")));
      // The hourly rollups the writers rolled up between them: each hour once, equal to its raw rows.
      const to = Number((db.query("SELECT value FROM tally_meta WHERE key = 'hourly_to'").get() as Row).value);
      expect(to).toBeGreaterThan(Date.UTC(2026, 10, 20, 10));
      expect(summarise(db.query("SELECT hour, repo, runs, input_tokens, duration_buckets FROM hourly_model_usage WHERE hour < ?").all(to) as Row[], (r) => `${r.hour}|${r.repo}`, runs, (r) => Number(r.input_tokens), rollupBucket))
        .toEqual(summarise(executions.filter((r) => Number(r.created_at) < to), (r) => `${hourOf(r.created_at)}|${r.repo}`, () => 1, (r) => Number(r.input_tokens), rawBucket("duration_ms")));
      db.close();
    }, 60_000);
  }
});
