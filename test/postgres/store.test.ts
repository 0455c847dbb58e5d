/**
 * The PostgreSQL store beyond the shared report contract: many writer processes on the same
 * rollup rows, monthly partitions and retention, records refused as expired, a database
 * that goes away and comes back, hostile values and options.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createTelemetry } from "../../src/index.ts";
import { TallyConfigError } from "../../src/core/errors.ts";
import { matchesGlob, parseGlob, toPostgresRegex } from "../../src/report/glob.ts";
import { openPostgresStore, POSTGRES_SCHEMA_VERSION } from "../../src/store/postgres/index.ts";
import { execution, toolCall } from "../contract/rows.ts";
import { rng } from "../contract/random.ts";
import { closeStores, freshSchema, openTestStore, POSTGRES_URL, rawConnection, raceWriterProcesses, SKIP_REASON, testClock } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
const DAY = 86_400_000;
afterAll(closeStores);

/** A plain connection, to look at what the store wrote. */
const raw = rawConnection;

suite("postgres: many writers on the same rollup rows", () => {
  test("four processes, overlapping ids, one hour: every run counted once, sums and sketches exact", async () => {
    const writers = 4;
    const batches = 20;
    const { store, codes } = await raceWriterProcesses("rollup-writer.ts", writers, batches);
    expect(codes).toEqual([0, 0, 0, 0]);
    const runs = writers * batches * 100 + batches * 100; // own ids + shared ids once
    const range = { since: Date.UTC(2026, 10, 20), until: Date.UTC(2026, 10, 21) };
    const report = await store.report({ kind: "usage", groupBy: ["repo"], range });
    expect([report.totals.runs, report.totals.inputTokens, report.totals.costUsd]).toEqual([runs, runs * 10, runs * 0.5]);
    expect(report.source).toBe("rollups");
    const exact = await store.report({ kind: "usage", groupBy: ["repo"], range, exact: true });
    expect(exact.totals.runs).toBe(runs);
    const db = raw(store.schema);
    try {
      // Every rollup row's sketch holds one count per run: no merge was lost.
      for (const table of ["daily_usage", "daily_model_usage", "hourly_usage", "hourly_model_usage"]) {
        const rows = await db.unsafe(`SELECT runs, duration_buckets FROM ${table}`);
        expect(rows.length).toBe(1);
        const sketch = rows[0]!.duration_buckets as number[];
        let counted = 0;
        for (let i = 1; i < sketch.length; i += 2) counted += sketch[i]!;
        expect([Number(rows[0]!.runs), counted]).toEqual([runs, runs]);
      }
    } finally {
      await db.end();
    }
  }, 60_000);
});

suite("postgres: migrations", () => {
  test("many stores opening one new schema at once migrate it once; opening it again keeps its rows", async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 3 }, () => openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now: testClock }));
    try {
      await Promise.all(stores.map((s) => s.ready));
      expect(stores.map((s) => [s.schemaVersion, s.unwritableReason])).toEqual(stores.map(() => [POSTGRES_SCHEMA_VERSION, null]));
      expect((await stores[0]!.write([execution({ id: "kept", createdAt: Date.UTC(2026, 10, 20, 10) })])).ok).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    // Opening it again migrates nothing and keeps the rows.
    const again = openPostgresStore({ url: POSTGRES_URL, schema, retentionDays: 0, now: testClock });
    await again.ready;
    expect(again.schemaVersion).toBe(POSTGRES_SCHEMA_VERSION);
    const report = await again.report({ kind: "usage", groupBy: ["day"], range: { since: Date.UTC(2026, 10, 20), until: Date.UTC(2026, 10, 21) } });
    expect([report.totals.runs, report.rows.length]).toEqual([1, 1]);
    await again.close();
  });

  test("a schema written by a newer Tally is refused for writing, with the versions in the message", async () => {
    const store = openTestStore();
    await store.ready;
    const db = raw(store.schema);
    await db.unsafe("UPDATE tally_meta SET value = '99' WHERE key = 'schema_version'");
    await db.end();
    const newer = openPostgresStore({ url: POSTGRES_URL, schema: store.schema, retentionDays: 0 });
    await newer.ready;
    expect(newer.unwritableReason).toMatch(/schema version 99, newer than this tally's/);
    const result = await newer.write([execution({})]);
    expect(result.ok || result.failure).toBe("failed");
    await newer.close();
  });
});

suite("postgres: partitions and retention", () => {
  test("months get partitions as rows need them; purge drops whole old months, rollups stay, reports still answer", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const store = openTestStore({ now: () => now });
    await store.ready;
    const old = Date.UTC(2026, 5, 10, 9); // June: a whole month before a 90-day cut-off
    const straddling = now - 91 * DAY; // early September: in the month the cut-off falls in
    const recent = now - DAY;
    const write = await store.write([
      execution({ createdAt: old, inputTokens: 7, costUsd: 1 }),
      execution({ createdAt: straddling, inputTokens: 5, costUsd: 2 }),
      execution({ createdAt: recent, inputTokens: 3, costUsd: 4 }),
      toolCall({ createdAt: old, durationMs: 5 }),
    ]);
    expect(write.ok && write.inserted).toBe(4);
    const before = await store.partitions();
    expect(before.executions).toContain("2026-06");
    expect(before.executions).toContain("2027-02"); // created ahead
    expect(await store.countOlderThan(90)).toBe(3);

    expect(await store.purgeOlderThan(90)).toBe(3);
    const after = await store.partitions();
    expect(after.executions).not.toContain("2026-06");
    expect(after.tool_calls).not.toContain("2026-06");
    expect(after.executions).toContain(new Date(straddling).toISOString().slice(0, 7)); // emptied by DELETE, kept
    // Whole days come from the rollups; the raw rows are gone.
    const june = { since: Date.UTC(2026, 5, 10), until: Date.UTC(2026, 5, 11) };
    const fromRollups = await store.report({ kind: "usage", groupBy: [], range: june });
    expect([fromRollups.totals.runs, fromRollups.totals.inputTokens]).toEqual([1, 7]);
    expect((await store.report({ kind: "usage", groupBy: [], range: june, exact: true })).totals.runs).toBe(0);
    expect((await store.report({ kind: "tools", groupBy: [], range: june })).totals.calls).toBe(1);

    // A replay of the purged run is refused as expired, not counted a second time.
    const replay = await store.write([execution({ id: "late", createdAt: old, inputTokens: 7 }), execution({ createdAt: recent, inputTokens: 1 })]);
    expect(replay.ok).toBe(true);
    if (!replay.ok) return;
    expect([replay.inserted, replay.refused, replay.refusedIndexes]).toEqual([1, 1, [0]]);
    expect(replay.refusal).toMatch(/expired: older than the retention cut-off/);
    expect((await store.report({ kind: "usage", groupBy: [], range: june })).totals.runs).toBe(1);
    expect(await store.executionsPurgedBefore()).toBe(now - 90 * DAY);
  });

  test("one purge at a time: a lease another server holds makes a purge skip its turn; an expired one is taken, and given back after", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const store = openTestStore({ now: () => now });
    await store.ready;
    const write = await store.write([execution({ createdAt: now - 100 * DAY }), execution({ createdAt: now - 99 * DAY })]);
    expect(write.ok && write.inserted).toBe(2);
    const db = raw(store.schema);
    try {
      const setLease = (sql: string) => db.unsafe(`INSERT INTO tally_meta (key, value) VALUES ('purge_lease', (${sql})::text)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
      const lease = async () => (await db.unsafe("SELECT value FROM tally_meta WHERE key = 'purge_lease'"))[0]?.value as string | undefined;
      await setLease("(extract(epoch from clock_timestamp()) * 1000)::bigint + 3600000"); // held for another hour
      expect(await store.purgeOlderThan(90)).toBe(0);
      expect(await store.countOlderThan(90)).toBe(2);
      await setLease("(extract(epoch from clock_timestamp()) * 1000)::bigint - 1"); // its holder died: expired
      expect(await store.purgeOlderThan(90)).toBe(2);
      expect(await store.countOlderThan(90)).toBe(0);
      expect(await lease()).toBe("0");
    } finally {
      await db.end();
    }
  });

  test("a record dated more than a year ahead is refused, not given a partition", async () => {
    const store = openTestStore();
    const farAhead = Date.now() + 400 * DAY;
    const result = await store.write([execution({ createdAt: farAhead }), execution({})]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([result.inserted, result.refusedIndexes]).toEqual([1, [0]]);
    expect(result.refusal).toMatch(/more than a year ahead/);
    expect((await store.partitions()).executions).not.toContain(new Date(farAhead).toISOString().slice(0, 7));
  });
});

suite("postgres: backlog batches", () => {
  test("createTelemetry drains a backlog into PostgreSQL in writes of up to 5,000 records (the store's preference)", async () => {
    const store = openTestStore();
    const sizes: number[] = [];
    const observed = { ...store, write: (batch: Parameters<typeof store.write>[0]) => (sizes.push(batch.length), store.write(batch)) };
    const telemetry = createTelemetry({ store: observed, flushOnExit: false, maxQueueSize: 20_000 });
    for (let i = 0; i < 12_000; i++) telemetry.recordExecution({ model: "claude-sonnet-4-5", repo: "acme/api", conclusion: "success", inputTokens: 1, outputTokens: 1, costUsd: 0 });
    await telemetry.flush();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12_000);
    expect(Math.max(...sizes)).toBe(5000);
    expect(telemetry.stats()).toMatchObject({ written: 12_000, queued: 0, dropped: { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 } });
    await telemetry.shutdown();
  }, 60_000);
});

suite("postgres: exactly once", () => {
  test("the same id twice in one batch, and a copy at another time, is stored once; collisions are named", async () => {
    const store = openTestStore({ now: testClock });
    const at = Date.UTC(2026, 10, 20, 10);
    const first = execution({ id: "same", createdAt: at, model: "m-a", inputTokens: 1 });
    const result = await store.write([first, first, execution({ id: "same", createdAt: at + 40 * DAY, model: "m-b", inputTokens: 1 })]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([result.inserted, result.duplicates, result.duplicateIndexes]).toEqual([1, 2, [1, 2]]);
    expect(result.collisions).toEqual(["execution.model"]);
    const again = await store.write([first]);
    expect(again.ok && [again.inserted, again.duplicates]).toEqual([0, 1]);
  });

  test("two stores writing the same ids at once, stamped at different times (two servers, a retry), store each id once", async () => {
    const first = openTestStore({ now: testClock });
    await first.ready;
    const second = openPostgresStore({ url: POSTGRES_URL, schema: first.schema, retentionDays: 0, now: testClock });
    const now = Date.UTC(2026, 10, 20, 10);
    const batch = (offset: number) => Array.from({ length: 200 }, (_, i) => execution({ id: `x-${i}`, createdAt: now - offset - i, inputTokens: 1 }));
    try {
      const results = await Promise.all([first.write(batch(1000)), second.write(batch(2000)), first.write(batch(3000)), second.write(batch(4000))]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
      expect(results.reduce((sum, r) => sum + (r.ok ? r.inserted : 0), 0)).toBe(200);
      const range = { since: now - 1 - 86_400_000, until: now + 1 };
      expect((await first.report({ kind: "usage", groupBy: [], range })).totals.runs).toBe(200);
      expect((await first.report({ kind: "usage", groupBy: [], range, exact: true })).totals.runs).toBe(200);
    } finally {
      await second.close();
    }
  });

  test("a later snapshot of a streamed response replaces the stored row and corrects the rollups", async () => {
    const store = openTestStore({ now: testClock });
    const at = Date.UTC(2026, 10, 20, 10);
    await store.write([execution({ id: "msg", createdAt: at, outputTokens: 5, stopReason: null, costUsd: 0.1 })]);
    const result = await store.write([execution({ id: "msg", createdAt: at + 2000, outputTokens: 500, stopReason: "end_turn", costUsd: 0.9 })], { replaceSnapshots: true });
    expect(result.ok && [result.inserted, result.replaced]).toEqual([0, 1]);
    const range = { since: Date.UTC(2026, 10, 20), until: Date.UTC(2026, 10, 21) };
    const report = await store.report({ kind: "usage", groupBy: [], range });
    expect([report.totals.runs, report.totals.outputTokens, report.totals.costUsd]).toEqual([1, 500, 0.9]);
    expect((await store.report({ kind: "usage", groupBy: [], range, exact: true })).totals.outputTokens).toBe(500);
  });
});

suite("postgres: name filters", () => {
  test("Tally's globs as PostgreSQL regexes match exactly what matchesGlob matches", async () => {
    const random = rng(7);
    const alphabet = ["a", "b", "z", "-", "]", "[", "^", "!", "\\", "*", "?", ".", "(", "$", "|", "+", "{", "/", "é", "\n"];
    const text = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    const cases: [string, string][] = [["claude-[so]*", "claude-sonnet"], ["[z-a]", "q"], ["[!z-a]", "q"], ["a\\*b", "a*b"], ["[]]", "]"], ["[^]", "^"]];
    for (let i = 0; i < 400; i++) cases.push([text(1 + Math.floor(random() * 6)), text(Math.floor(random() * 5))]);
    const db = postgres(POSTGRES_URL, { onnotice: () => {}, max: 1 });
    try {
      const rows = await db.unsafe(
        "SELECT t ~ r AS m FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(r, t, n) ORDER BY n",
        [cases.map(([p]) => toPostgresRegex(parseGlob(p))), cases.map(([, t]) => t)] as never[],
      );
      const mismatches = cases.filter(([p, t], i) => rows[i]!.m !== matchesGlob(parseGlob(p), t));
      expect(mismatches).toEqual([]);
    } finally {
      await db.end();
    }
  });
});

suite("postgres: a database that goes away", () => {
  test("no server listening: writes are retryable, reads say why, nothing throws", async () => {
    const store = openPostgresStore({ url: "postgres://tally@127.0.0.1:1/nowhere", schema: freshSchema(), connectTimeoutSeconds: 1 });
    const result = await store.write([execution({})]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure).toBe("retryable");
    expect(store.unwritableReason).toMatch(/cannot open postgres:\/\/tally@127\.0\.0\.1:1\/nowhere/);
    await expect(store.report({ kind: "usage", groupBy: [], range: {} })).rejects.toThrow(/cannot open/);
    await store.close();
    const closed = await store.write([execution({})]);
    expect(closed.ok || closed.failure).toBe("failed");
  });

  test("stopped and started while producers write: nothing lost within the queue, drops counted beyond it, no crash", async () => {
    const started = Bun.spawnSync(["bash", join(import.meta.dir, "../../scripts/test-postgres.sh")]);
    expect(started.exitCode).toBe(0);
    const [url, dir] = started.stdout.toString().trim().split(" ") as [string, string];
    const store = openPostgresStore({ url, schema: "tally", retentionDays: 0, connectTimeoutSeconds: 2, now: testClock });
    const telemetry = createTelemetry({ store, flushIntervalMs: 20, retryBaseDelayMs: 20, maxRetryDelayMs: 200, flushOnExit: false });
    try {
      await store.ready;
      const at = Date.UTC(2026, 10, 20, 10);
      const record = (i: number) => telemetry.recordExecution({ id: `r-${i}`, createdAt: at + i, model: "m", conclusion: "success", inputTokens: 1, costUsd: 0.01 });
      for (let i = 0; i < 100; i++) record(i);
      await telemetry.flush();
      expect(Bun.spawnSync(["bash", join(import.meta.dir, "../../scripts/test-postgres.sh"), "pause", dir]).exitCode).toBe(0);
      for (let i = 100; i < 300; i++) record(i);
      // Beyond the queue bound, records are dropped and counted, never held without limit.
      const small = createTelemetry({ store: openPostgresStore({ url, schema: "tally", retentionDays: 0, connectTimeoutSeconds: 2, now: testClock }), maxQueueSize: 50, flushIntervalMs: 20, retryBaseDelayMs: 20, maxRetryDelayMs: 200, flushOnExit: false });
      for (let i = 0; i < 120; i++) small.recordExecution({ id: `s-${i}`, createdAt: at + i, model: "m", conclusion: "success", inputTokens: 1, costUsd: 0.01 });
      expect(small.stats().dropped.queueFull).toBe(70);
      // Writes fail while it is down; the records stay queued.
      const down = await store.write([execution({})]);
      expect(down.ok || down.failure).toBe("retryable");
      expect(Bun.spawnSync(["bash", join(import.meta.dir, "../../scripts/test-postgres.sh"), "resume", dir]).exitCode).toBe(0);
      for (let i = 300; i < 400; i++) record(i);
      await telemetry.shutdown({ timeoutMs: 20_000 });
      await small.shutdown({ timeoutMs: 20_000 });
      expect([small.stats().written, small.stats().dropped.queueFull]).toEqual([50, 70]);
      expect(telemetry.stats().dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
      const check = openPostgresStore({ url, schema: "tally", retentionDays: 0 });
      const report = await check.report({ kind: "usage", groupBy: [], range: { since: at, until: at + DAY } });
      await check.close();
      expect(report.totals.runs).toBe(450);
    } finally {
      await telemetry.shutdown({ timeoutMs: 1000 }).catch(() => {});
      Bun.spawnSync(["bash", join(import.meta.dir, "../../scripts/test-postgres.sh"), "stop", dir]);
    }
  }, 60_000);
});

describe("postgres: options", () => {
  test("a wrong URL, schema or number is a TallyConfigError at once; the password never shows", () => {
    expect(() => openPostgresStore({ url: "mysql://x" })).toThrow(TallyConfigError);
    expect(() => openPostgresStore({ url: "postgres://u:hunter2@[bad" })).toThrow(/postgres:\/\/\(unparseable url\)/);
    for (const schema of ["Tally", "a-b", "x; DROP TABLE y", "", "a".repeat(64), "1abc"]) {
      expect(() => openPostgresStore({ url: "postgres://localhost/x", schema })).toThrow(TallyConfigError);
    }
    expect(() => openPostgresStore({ url: "postgres://localhost/x", retentionDays: -1 })).toThrow(TallyConfigError);
    // postgres.js would take an unknown sslmode for "verify the certificate" and fail at TLS.
    expect(() => openPostgresStore({ url: "postgres://u:hunter2@localhost/x?sslmode=requre" })).toThrow(/sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got "requre" \(in postgres:\/\/u:\*\*\*@/);
    for (const sslmode of ["disable", "require", "verify-full"]) {
      void openPostgresStore({ url: `postgres://localhost:1/x?sslmode=${sslmode}`, connectTimeoutSeconds: 1 }).close();
    }
    const store = openPostgresStore({ url: "postgres://u:hunter2@127.0.0.1:1/x", connectTimeoutSeconds: 1 });
    expect(store.displayUrl).toBe("postgres://u:***@127.0.0.1:1/x");
    void store.close();
  });
});

suite("postgres: hostile values", () => {
  test("quotes, braces, backslashes, unicode and SQL in every text field round-trip; a NUL byte is refused alone", async () => {
    const store = openTestStore({ now: testClock });
    const nasty = `'); DROP TABLE executions; --{"a":[1,2]}\\ "q" é 🦀 {}`;
    const at = Date.UTC(2026, 10, 20, 10);
    const ok = await store.write([execution({ createdAt: at, repo: nasty, model: nasty, eventType: nasty, attributes: JSON.stringify({ nasty }) })]);
    expect(ok.ok && ok.inserted).toBe(1);
    const report = await store.report({ kind: "usage", groupBy: ["repo", "model"], range: { since: at - DAY, until: at + DAY }, filters: { repos: ["'*"] } });
    expect(report.rows.map((r) => [r.group.repo, r.group.model])).toEqual([[nasty, nasty]]);
    const bad = await store.write([execution({ createdAt: at, repo: "a\u0000b" })]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.failure).toBe("rejected"); // the writer then isolates it record by record
  });
});
