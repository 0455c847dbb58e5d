/**
 * The schema-2 daily rollups of the PostgreSQL store — daily_degradations, daily_cache_usage,
 * daily_tool_sessions — against their raw rows: written with every batch for the rows actually
 * inserted (duplicates, replays, a run sent again under a new id, many writer processes at once),
 * built by the migration from a schema-1 database, and purged with the other rollups.
 * Each rollup is compared with its raw rows grouped here, in JavaScript, by utcDay(): the
 * database's own day arithmetic is what is being checked, so it is not used to check it.
 */
import { afterAll, expect, test, describe } from "bun:test";
import postgres from "postgres";
import type { StoredRecord } from "../../src/core/rows.ts";
import { openPostgresStore, POSTGRES_SCHEMA_VERSION } from "../../src/store/postgres/index.ts";
import { Partitions } from "../../src/store/postgres/partitions.ts";
import { MIGRATIONS, utcDaySql } from "../../src/store/postgres/schema.ts";
import { utcDay } from "../../src/store/sqlite/utc-day.ts";
import { cacheEvent, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { closeStores, freshSchema, openTestStore, POSTGRES_URL, rawConnection, raceWriterProcesses, SKIP_REASON, testClock } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
const DAY = 86_400_000;
/** 2026-11-21T00:00Z: rows a millisecond before it belong to the 20th. */
const MIDNIGHT = Date.UTC(2026, 10, 21);
afterAll(closeStores);

type Db = ReturnType<typeof postgres>;

const raw = rawConnection;

/** The three rollups as sorted tuples (text keys, numeric sums). */
interface DailyRollups {
  degradations: (string | number)[][];
  cache: (string | number)[][];
  sessions: string[][];
}

const sorted = <T extends (string | number)[]>(rows: T[]): T[] => rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** What the rollup tables hold. */
async function readRollups(db: Db): Promise<DailyRollups> {
  const degradations = await db`SELECT day, repo, resource, degradation, runs, retry_attempts, skipped_queries FROM daily_degradations`;
  const cache = await db`SELECT day, cache, repo, lookups, hits, misses, errors FROM daily_cache_usage`;
  const sessions = await db`SELECT day, server, tool_name, session_id FROM daily_tool_sessions`;
  return {
    degradations: sorted(degradations.map((r) => [r.day, r.repo, r.resource, r.degradation, Number(r.runs), Number(r.retry_attempts), Number(r.skipped_queries)])),
    cache: sorted(cache.map((r) => [r.day, r.cache, r.repo, Number(r.lookups), Number(r.hits), Number(r.misses), Number(r.errors)])),
    sessions: sorted(sessions.map((r) => [r.day, r.server, r.tool_name, r.session_id])),
  };
}

/** Adds `values` to the row of `key` in `groups`. */
function addTo(groups: Map<string, (string | number)[]>, key: string[], values: number[]): void {
  const id = JSON.stringify(key);
  const row = groups.get(id);
  if (row === undefined) groups.set(id, [...key, ...values]);
  else values.forEach((v, i) => ((row[key.length + i] as number) += v));
}

/** The same three rollups, grouped here from the raw rows the database holds. */
async function groupRawRows(db: Db): Promise<DailyRollups> {
  const degradations = new Map<string, (string | number)[]>();
  for (const r of await db`SELECT created_at, repo, resource, degradation, retry_attempts, skipped_queries FROM rate_limit_events`) {
    addTo(degradations, [utcDay(Number(r.created_at)), r.repo, r.resource, r.degradation], [1, Number(r.retry_attempts), Number(r.skipped_queries)]);
  }
  const cache = new Map<string, (string | number)[]>();
  for (const r of await db`SELECT created_at, cache, repo, outcome FROM cache_events`) {
    addTo(cache, [utcDay(Number(r.created_at)), r.cache, r.repo], [1, r.outcome === "hit" ? 1 : 0, r.outcome === "miss" ? 1 : 0, r.outcome === "error" ? 1 : 0]);
  }
  const sessions = new Map<string, string[]>();
  for (const r of await db`SELECT created_at, server, tool_name, session_id FROM tool_calls WHERE session_id IS NOT NULL`) {
    const key = [utcDay(Number(r.created_at)), r.server, r.tool_name, r.session_id];
    sessions.set(JSON.stringify(key), key);
  }
  return { degradations: sorted([...degradations.values()]), cache: sorted([...cache.values()]), sessions: sorted([...sessions.values()]) };
}

/** Reads both and expects them equal; returns the rollups for further checks. */
async function expectRollupsEqualRawRows(schema: string): Promise<DailyRollups> {
  const db = raw(schema);
  try {
    const rollups = await readRollups(db);
    expect(rollups).toEqual(await groupRawRows(db));
    return rollups;
  } finally {
    await db.end();
  }
}

suite("postgres daily rollups: written with the batch, for inserted rows only", () => {
  test("duplicates in a batch, a replayed batch, a run sent again under a new id: sums worked out by hand", async () => {
    const store = openTestStore({ now: testClock });
    const pr = { repo: "acme/api", resource: "search", eventType: "pull_request.opened" };
    const a1 = rateLimitEvent({ ...pr, id: "a1", createdAt: MIDNIGHT - 1, deliveryId: "d1", retryAttempts: 2, skippedQueries: 1 });
    const k1 = cacheEvent({ id: "k1", createdAt: MIDNIGHT - 1, cache: "search", repo: "acme/api", outcome: "hit" });
    const t1 = toolCall({ id: "t1", createdAt: MIDNIGHT - 1, server: "github", toolName: "search", sessionId: "s1" });
    const t2 = toolCall({ id: "t2", createdAt: MIDNIGHT - 1, server: "github", toolName: "search", sessionId: "s1" });
    const first: StoredRecord[] = [
      a1, a1,
      // The same delivery and event type under another id: the same run, counted once.
      rateLimitEvent({ ...pr, id: "a2", createdAt: MIDNIGHT - 1, deliveryId: "d1", retryAttempts: 5 }),
      // The same delivery, another event type: another run (and the next UTC day).
      rateLimitEvent({ ...pr, id: "a3", createdAt: MIDNIGHT, deliveryId: "d1", eventType: "pull_request.synchronize", retryAttempts: 1 }),
      rateLimitEvent({ ...pr, id: "a4", createdAt: MIDNIGHT - 5, deliveryId: null, skippedQueries: 3, degradation: "skipped" }),
      k1, k1,
      cacheEvent({ id: "k2", createdAt: MIDNIGHT - 1, cache: "search", repo: "acme/api", outcome: "miss" }),
      cacheEvent({ id: "k3", createdAt: MIDNIGHT, cache: "search", repo: "acme/api", outcome: "error" }),
      t1, t1, t2,
      toolCall({ id: "t3", createdAt: MIDNIGHT - 1, server: "github", toolName: "search", sessionId: null }),
      toolCall({ id: "t4", createdAt: MIDNIGHT, server: "github", toolName: "fetch", sessionId: "s2" }),
    ];
    const written = await store.write(first);
    expect(written.ok && [written.inserted, written.duplicates, written.duplicateIndexes]).toEqual([10, 4, [1, 2, 6, 10]]);
    const afterFirst = await expectRollupsEqualRawRows(store.schema);

    const replay = await store.write(first);
    expect(replay.ok && [replay.inserted, replay.duplicates]).toEqual([0, first.length]);
    expect(await expectRollupsEqualRawRows(store.schema)).toEqual(afterFirst);

    const third = await store.write([
      rateLimitEvent({ ...pr, id: "a5", createdAt: MIDNIGHT - 9, deliveryId: "d1", retryAttempts: 7 }), // d1 again, a later retry's new id
      rateLimitEvent({ ...pr, id: "a6", createdAt: MIDNIGHT - 9, deliveryId: "d2", retryAttempts: 1, skippedQueries: 1 }),
      k1, cacheEvent({ id: "k4", createdAt: MIDNIGHT - 9, cache: "search", repo: "acme/api", outcome: "hit" }),
      t2, toolCall({ id: "t5", createdAt: MIDNIGHT - 9, server: "github", toolName: "search", sessionId: "s1" }),
      toolCall({ id: "t6", createdAt: MIDNIGHT - 9, server: "github", toolName: "search", sessionId: "s3" }),
      // A stored id with another session: not inserted, so its session is not added either.
      toolCall({ id: "t1", createdAt: MIDNIGHT - 1, server: "github", toolName: "search", sessionId: "s-other" }),
    ]);
    expect(third.ok && [third.inserted, third.duplicateIndexes]).toEqual([4, [0, 2, 4, 7]]);
    expect(await expectRollupsEqualRawRows(store.schema)).toEqual({
      degradations: [
        ["2026-11-20", "acme/api", "search", "partial", 2, 3, 2], // a1 + a6
        ["2026-11-20", "acme/api", "search", "skipped", 1, 0, 3], // a4
        ["2026-11-21", "acme/api", "search", "partial", 1, 1, 0], // a3
      ],
      cache: [["2026-11-20", "search", "acme/api", 3, 2, 1, 0], ["2026-11-21", "search", "acme/api", 1, 0, 0, 1]],
      sessions: [["2026-11-20", "github", "search", "s1"], ["2026-11-20", "github", "search", "s3"], ["2026-11-21", "github", "fetch", "s2"]],
    });
  });

  test("four processes writing overlapping batches twice each: every rollup equals its raw rows, each run and lookup once", async () => {
    const writers = 4;
    const batches = 10;
    const { store, codes } = await raceWriterProcesses("daily-rollup-writer.ts", writers, batches);
    expect(codes).toEqual([0, 0, 0, 0]);
    const rollups = await expectRollupsEqualRawRows(store.schema);
    // By hand, from the fixture: own runs of every writer, one run per shared delivery, one per shared id.
    const total = (rows: (string | number)[][], column: number) => rows.reduce((sum, r) => sum + (r[column] as number), 0);
    expect(total(rollups.degradations, 4)).toBe(writers * batches * 40 + batches * 40 + batches * 40);
    expect(total(rollups.cache, 3)).toBe(writers * batches * 40 + batches * 40);
    // Sessions: each writer's 4 on both days, and 3 shared sessions × 2 tools on both days.
    expect(rollups.sessions.length).toBe(writers * 4 * 2 + 3 * 2 * 2);
  }, 60_000);
});

/** The schema-1 DDL, as a Tally that wrote version 1 left it. */
async function createSchemaV1(db: Db, schema: string): Promise<void> {
  await db.begin(async (tx) => {
    await tx.unsafe(`CREATE SCHEMA "${schema}"`);
    await tx.unsafe(`SET LOCAL search_path TO "${schema}"`);
    await tx.unsafe(MIGRATIONS.find((m) => m.version === 1)!.sql);
    await tx.unsafe("INSERT INTO tally_meta (key, value) VALUES ('schema_version', '1')");
  });
}

suite("postgres daily rollups: the migration from schema 1", () => {
  test("the migration's day in SQL is utcDay(): either side of midnight, before 1970, up to 9999, in any session time zone", async () => {
    const values = [0, 1, -1, -DAY, -DAY - 1, -DAY + 1, 253_402_300_799_999]; // the last: the latest time a record may have
    for (const day of [-400, 1, 20_413, 2_932_896]) for (const offset of [-1, 0, 1, 999, 1000]) values.push(day * DAY + offset);
    let seed = 7;
    for (let i = 0; i < 2000; i++) values.push(Math.floor(-6e13 + ((seed = (seed * 48271) % 2147483647) / 2147483647) * (253_402_300_799_999 + 6e13)));
    const db = postgres(POSTGRES_URL, { onnotice: () => {}, max: 1 });
    try {
      await db`SET TIME ZONE 'Pacific/Kiritimati'`; // UTC+14: a local day would differ from most UTC ones
      await db`SET DateStyle = 'German'`;
      const rows = await db.unsafe(`SELECT v, ${utcDaySql("v")} AS day FROM unnest($1::int8[]) AS u(v)`, [values] as never[]);
      expect(rows.filter((r) => r.day !== utcDay(Number(r.v))).map((r) => [String(r.v), r.day])).toEqual([]);
      expect(rows.length).toBe(values.length);
    } finally {
      await db.end();
    }
  });

  test("a schema-1 database opened by three stores at once is migrated once, the rollups built from its raw rows", async () => {
    const schema = freshSchema();
    const db = raw(schema);
    try {
      await createSchemaV1(db, schema);
      await new Partitions(db, schema).ensure([0, MIDNIGHT]);
      // Instants either side of midnight, the epoch itself, and one before it (floor, not truncation).
      await db`INSERT INTO rate_limit_events (id, created_at, delivery_id, event_type, repo, resource, retry_attempts, skipped_queries, degradation) VALUES
        ('r1', ${MIDNIGHT - 1}, 'd1', 'pr', 'a', 'search', 2, 1, 'partial'),
        ('r2', ${MIDNIGHT - DAY}, 'd2', 'pr', 'a', 'search', 1, 0, 'partial'),
        ('r3', ${MIDNIGHT}, 'd3', 'pr', 'a', 'search', 0, 4, 'partial'),
        ('r4', -1, NULL, '', 'b', 'core', 0, 0, 'skipped')`;
      await db`INSERT INTO cache_events (id, created_at, cache, outcome, repo) VALUES
        ('c1', ${MIDNIGHT - 1}, 'search', 'hit', 'a'), ('c2', ${MIDNIGHT - 2}, 'search', 'miss', 'a'), ('c3', ${MIDNIGHT}, 'search', 'error', 'a'),
        ('c4', ${MIDNIGHT + 1}, 'search', 'hit', ''), ('c5', 0, 'x', 'hit', '')`;
      await db`INSERT INTO tool_calls (id, created_at, session_id, server, tool_name, outcome) VALUES
        ('t1', ${MIDNIGHT - 1}, 's1', 'github', 'search', 'ok'), ('t2', ${MIDNIGHT - 2}, 's1', 'github', 'search', 'tool_error'),
        ('t3', ${MIDNIGHT}, 's1', 'github', 'search', 'ok'), ('t4', ${MIDNIGHT - 1}, NULL, 'github', 'search', 'ok'),
        ('t5', ${MIDNIGHT - 1}, 's2', 'github', 'fetch', 'ok')`;
    } finally {
      await db.end();
    }

    const stores = Array.from({ length: 3 }, () => openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now: testClock }));
    try {
      await Promise.all(stores.map((s) => s.ready));
      expect(stores.map((s) => [s.schemaVersion, s.unwritableReason])).toEqual(stores.map(() => [POSTGRES_SCHEMA_VERSION, null]));
      expect(await expectRollupsEqualRawRows(schema)).toEqual({
        degradations: [
          ["1969-12-31", "b", "core", "skipped", 1, 0, 0],
          ["2026-11-20", "a", "search", "partial", 2, 3, 1],
          ["2026-11-21", "a", "search", "partial", 1, 0, 4],
        ],
        cache: [
          ["1970-01-01", "x", "", 1, 1, 0, 0],
          ["2026-11-20", "search", "a", 2, 1, 1, 0],
          ["2026-11-21", "search", "", 1, 1, 0, 0],
          ["2026-11-21", "search", "a", 1, 0, 0, 1],
        ],
        sessions: [["2026-11-20", "github", "fetch", "s2"], ["2026-11-20", "github", "search", "s1"], ["2026-11-21", "github", "search", "s1"]],
      });
      // The writer adds to the built rows (and a replayed raw row still counts once).
      const more = await stores[0]!.write([
        rateLimitEvent({ id: "r1", createdAt: MIDNIGHT - 1, deliveryId: "d1", eventType: "pr", repo: "a", resource: "search", retryAttempts: 2, skippedQueries: 1 }),
        rateLimitEvent({ id: "r5", createdAt: MIDNIGHT - 1, deliveryId: "d5", eventType: "pr", repo: "a", resource: "search", retryAttempts: 4 }),
      ]);
      expect(more.ok && [more.inserted, more.duplicates]).toEqual([1, 1]);
      const after = await expectRollupsEqualRawRows(schema);
      expect(after.degradations[1]).toEqual(["2026-11-20", "a", "search", "partial", 3, 7, 1]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

suite("postgres daily rollups: retention", () => {
  test("days older than the rollup retention go from all three; younger days stay after their raw rows went", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const store = openTestStore({ now: () => now, rollupRetentionDays: 30 });
    const rows = (at: number, n: string): StoredRecord[] => [
      rateLimitEvent({ id: `rl-${n}`, createdAt: at }),
      cacheEvent({ id: `c-${n}`, createdAt: at }),
      toolCall({ id: `t-${n}`, createdAt: at, sessionId: `s-${n}` }),
    ];
    const written = await store.write([...rows(now - 40 * DAY, "old"), ...rows(now - 20 * DAY, "mid"), ...rows(now - DAY, "new")]);
    expect(written.ok && written.inserted).toBe(9);
    const days = (r: DailyRollups) => [r.degradations, r.cache, r.sessions].map((rowsOf) => rowsOf.map((row) => row[0]));
    const all = [utcDay(now - 40 * DAY), utcDay(now - 20 * DAY), utcDay(now - DAY)];
    expect(days(await expectRollupsEqualRawRows(store.schema))).toEqual([all, all, all]);

    expect(await store.purgeOlderThan(10)).toBe(6); // raw rows before now - 10 days
    const db = raw(store.schema);
    try {
      const kept = all.slice(1);
      expect(days(await readRollups(db))).toEqual([kept, kept, kept]);
    } finally {
      await db.end();
    }
  });
});
