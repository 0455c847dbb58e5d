/**
 * PostgreSQL's quarter-hour rollup (schema 3): runs by quarter hour alone, upserted with every
 * batch, and built by the migration from the raw rows of a schema-2 database. Both ways must
 * give the same rows, sketches included: the migration's SQL bucket arithmetic is checked
 * against the writer's JavaScript, either side of quarter-hour boundaries, before 1970, and at
 * durations on the edges of sketch buckets.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { StoredRecord } from "../../src/core/rows.ts";
import type { UsageReportSpec } from "../../src/report/spec.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { execution } from "../contract/rows.ts";
import { closeStores, freshSchema, POSTGRES_URL, rawConnection, SKIP_REASON } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
afterAll(closeStores);

const QUARTER = 900_000;
const BASE = Date.UTC(2026, 10, 21, 18, 30); // a Kolkata midnight, on a quarter hour
/** The stores' clock, a day after the runs: what they accept or refuse never depends on the day the test runs. */
const now = () => BASE + 86_400_000;

/** Runs either side of quarter-hour edges (and of 1970), with durations on the edges of sketch buckets. */
function runs(): StoredRecord[] {
  const times = [BASE - 1, BASE, BASE + 1, BASE + QUARTER - 1, BASE + QUARTER, BASE + 5 * QUARTER + 7, -1, 0, QUARTER];
  const durations = [0, 1, 2, 10, 11, 12, 999, 1000, 1_234_567, 0.5, 28_102];
  const conclusions = ["success", "failure", "error"] as const;
  return times.flatMap((createdAt, i) =>
    durations.slice(0, 3 + (i % 8)).map((durationMs, j) =>
      execution({
        id: `q-${i}-${j}`,
        createdAt,
        durationMs: Math.round(durationMs),
        conclusion: conclusions[(i + j) % 3],
        costSource: j % 4 === 3 ? "unpriced" : "reported",
        costUsd: j % 4 === 3 ? 0 : 0.125 * (j + 1), // exact in binary: sums in any order agree
        inputTokens: 100 + j,
      }),
    ),
  );
}

async function quarterRows(schema: string): Promise<unknown[]> {
  const db = rawConnection(schema);
  try {
    const rows = await db`SELECT quarter_hour, runs, successes, failures, errors, input_tokens, output_tokens, cache_read_tokens,
      cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets FROM quarter_hour_usage ORDER BY quarter_hour`;
    return rows.map((r) => Object.values(r).map((v) => (Array.isArray(v) ? v.map(Number) : Number(v))));
  } finally {
    await db.end();
  }
}

async function meta(schema: string): Promise<Record<string, string>> {
  const db = rawConnection(schema);
  try {
    const rows = await db`SELECT key, value FROM tally_meta WHERE key LIKE 'quarter_hours_%'`;
    return Object.fromEntries(rows.map((r) => [String(r.key), String(r.value)]));
  } finally {
    await db.end();
  }
}

suite("postgres quarter-hour rollup", () => {
  test("the migration from schema 2 builds the rows the writer writes, sketches and all; reports by time equal --exact", async () => {
    const written = freshSchema();
    const migrated = freshSchema();
    for (const schema of [written, migrated]) {
      const store = openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now });
      const result = await store.write(runs());
      expect(result.ok && result.inserted).toBe(runs().length);
      await store.close();
    }
    // The second schema as a schema-2 Tally left it: no quarter hours yet.
    const db = rawConnection(migrated);
    await db.unsafe(`DROP TABLE quarter_hour_usage; DELETE FROM tally_meta WHERE key LIKE 'quarter_hours_%';
      UPDATE tally_meta SET value = '2' WHERE key = 'schema_version'`);
    await db.end();
    const reopened = openPostgresStore({ url: POSTGRES_URL, schema: migrated, retentionDays: 0, now });
    await reopened.ready;
    expect(reopened.schemaVersion).toBe(3);

    const expected = await quarterRows(written);
    expect(expected.length).toBe(7); // -1 → the quarter before 1970; 0 and 1 apart; BASE's four edges fall in three quarters
    expect(await quarterRows(migrated)).toEqual(expected);
    expect(await meta(migrated)).toEqual({ quarter_hours_from: "0", quarter_hours_to: String(Number.MAX_SAFE_INTEGER) });

    // Read by time alone, in zones whose days start on a half and a three-quarter hour: equal to the raw rows.
    for (const timeZone of ["Asia/Kolkata", "Asia/Kathmandu"]) {
      for (const by of [["day"], ["hour"], []] as const) {
        const spec = { kind: "usage" as const, groupBy: [...by], range: { since: BASE - 2 * 86_400_000, until: BASE + 86_400_000 }, timeZone };
        const fromRollups = await reopened.report(spec);
        const exact = await reopened.report({ ...spec, exact: true });
        const sums = (r: typeof fromRollups) => (r.kind === "usage" ? r.rows.map((row) => [row.group, row.runs, row.successes, row.errors, row.inputTokens, row.costUsd]) : []);
        expect(sums(fromRollups)).toEqual(sums(exact));
        expect(fromRollups.kind === "usage" && fromRollups.source).toBe("rollups");
      }
    }
    await reopened.close();
  });

  test("retention: quarter hours older than the rollup retention go and the span starts after them; younger ones outlive their raw rows", async () => {
    const DAY = 86_400_000;
    const asOf = Date.UTC(2026, 11, 2, 12); // the store's clock
    const schema = freshSchema();
    const store = openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, rollupRetentionDays: 30, now: () => asOf });
    try {
      const at = [asOf - 40 * DAY, asOf - 20 * DAY, asOf - DAY];
      expect((await store.write(at.map((createdAt, i) => execution({ id: `r-${i}`, createdAt, durationMs: 1000 * (i + 1) })))).ok).toBe(true);
      const spec: UsageReportSpec = { kind: "usage", groupBy: ["day"], range: { since: asOf - 25 * DAY, until: asOf }, timeZone: "Asia/Kolkata" };
      const before = await store.report(spec);
      expect(await store.purgeOlderThan(10)).toBe(2);
      const rows = (await quarterRows(schema)) as number[][];
      expect(rows.map((r) => r[0])).toEqual(at.slice(1).map((t) => Math.floor(t / QUARTER) * QUARTER));
      expect(await meta(schema)).toEqual({ quarter_hours_from: String(Date.UTC(2026, 10, 2)), quarter_hours_to: String(Number.MAX_SAFE_INTEGER) });
      // The day 20 days ago has no raw row left: its quarter hour answers, as before the purge.
      const after = await store.report(spec);
      expect(after.kind === "usage" && after.rows.map((r) => [r.group, r.runs])).toEqual(before.kind === "usage" ? before.rows.map((r) => [r.group, r.runs]) : []);
      expect(after.kind === "usage" && after.rawRowsPurgedBefore).toBeNull();
    } finally {
      await store.close();
    }
  });

  test("after a purge of raw rows the migration's span starts at the first whole hour still held", async () => {
    const schema = freshSchema();
    const store = openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now });
    expect((await store.write(runs())).ok).toBe(true);
    await store.close();
    const db = rawConnection(schema);
    await db.unsafe(`DROP TABLE quarter_hour_usage; DELETE FROM tally_meta WHERE key LIKE 'quarter_hours_%';
      UPDATE tally_meta SET value = '2' WHERE key = 'schema_version';
      INSERT INTO tally_meta (key, value) VALUES ('purged_before:executions', '${BASE + 1}')`);
    await db.end();
    const reopened = openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now });
    await reopened.ready;
    expect(await meta(schema)).toEqual({ quarter_hours_from: String(BASE + 1_800_000), quarter_hours_to: String(Number.MAX_SAFE_INTEGER) });
    await reopened.close();
  });
});
