/**
 * The PostgreSQL store behind a real PgBouncer in transaction mode (Debian's `pgbouncer`,
 * scripts/test-pgbouncer.sh), as managed PostgreSQL offers it: no session setting survives a
 * transaction, and each transaction here goes to the next of two server connections in turn,
 * so a statement prepared in one would be missing in the next (the store prepares none unless
 * the URL says `prepare=true`). Tally must find its schema in every statement and store every
 * record once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createTelemetry } from "../../src/index.ts";
import { TallyConfigError } from "../../src/core/errors.ts";
import { openPostgresStore, type PostgresStore } from "../../src/store/postgres/index.ts";
import { execution } from "../contract/rows.ts";
import { collectingLogger } from "../support/stores.ts";
import { closeStores, freshSchema, POSTGRES_URL, SKIP_REASON } from "./harness.ts";

const SCRIPT = join(import.meta.dir, "../../scripts/test-pgbouncer.sh");
const hasPgbouncer = Bun.which("pgbouncer") !== null;
const skipReason = SKIP_REASON ?? (hasPgbouncer ? null : "no pgbouncer binary: apt-get install pgbouncer (.ci/run does)");
if (SKIP_REASON === null && skipReason !== null) console.warn(`skipping the PgBouncer suite: ${skipReason}`);
const suite = skipReason === null ? describe : describe.skip;

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 20);

let pooler = "";
let poolerDir = "";
const stores: PostgresStore[] = [];

/** A store through the pooler (or `url`), closed after the suite. */
function open(options: Partial<Parameters<typeof openPostgresStore>[0]> & { schema: string }): PostgresStore {
  // On a clock two days after the records, so that no record is ever "ahead" or "expired" whatever the day.
  const store = openPostgresStore({ url: pooler, retentionDays: 0, connectTimeoutSeconds: 5, now: () => START + 2 * DAY, ...options });
  stores.push(store);
  return store;
}

/** `count` runs of one batch, a minute apart from `from`, ids named after the batch. */
function runs(name: string, count: number, from: number) {
  return Array.from({ length: count }, (_, i) => execution({ id: `${name}-${i}`, createdAt: from + i * 60_000, repo: `acme/r${i % 3}`, inputTokens: 10, costUsd: 0.5, durationMs: 100 + i }));
}

beforeAll(() => {
  if (skipReason !== null) return;
  const started = Bun.spawnSync(["bash", SCRIPT, POSTGRES_URL]);
  const out = started.stdout.toString().trim();
  if (started.exitCode !== 0 || !out.startsWith("postgres://")) throw new Error(`PgBouncer did not start: ${started.stderr.toString()}`);
  pooler = out.slice(0, out.indexOf(" "));
  poolerDir = out.slice(out.lastIndexOf(" ") + 1);
});

beforeAll(async () => {
  if (skipReason !== null) return;
  // Both server connections open (two transactions at once), so that the next transactions
  // take turns on them from the start.
  const warm = postgres(pooler, { max: 2, prepare: false, onnotice: () => {} });
  await Promise.all([warm`SELECT pg_sleep(0.2)`, warm`SELECT pg_sleep(0.2)`]);
  await warm.end();
});

afterAll(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await closeStores();
  if (poolerDir !== "") Bun.spawnSync(["bash", SCRIPT, "stop", poolerDir]);
});

suite("postgres behind PgBouncer (transaction mode)", () => {
  test("the pooler is recognised; every statement finds the schema; writes, a replay and a report equal to the server's own", async () => {
    const schema = freshSchema("pool");
    const log = collectingLogger();
    const store = open({ schema, maxConnections: 1, logger: log });
    await store.ready;
    expect(store.behindPooler).toBe(true);
    expect(log.entries.filter((e) => e.msg.includes("connection pooler answers")).map((e) => e.obj)).toEqual([expect.objectContaining({ preparedStatements: false, copy: false })]);
    for (let b = 0; b < 4; b++) {
      const result = await store.write(runs(`b${b}`, 30, START + b * 3_600_000));
      expect(result).toMatchObject({ ok: true, inserted: 30 });
    }
    // A large write (row by row here: no COPY behind a pooler) and a replay (every id found stored).
    expect(await store.write(runs("big", 300, START + 5 * 3_600_000))).toMatchObject({ ok: true, inserted: 300 });
    expect(await store.write(runs("b0", 30, START))).toMatchObject({ ok: true, inserted: 0, duplicates: 30 });
    expect(log.entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
    // None of the store's statements was prepared on either server connection (the transactions
    // took turns on both). The one allowed: postgres.js's array-type lookup, which the first
    // connection makes before the store knows a pooler answers (a name no one else uses).
    const look = postgres(pooler, { max: 1, prepare: false, onnotice: () => {} });
    try {
      const prepared: string[] = [];
      for (let turn = 0; turn < 2; turn++) prepared.push(...(await look.unsafe("SELECT statement FROM pg_prepared_statements")).map((r) => String(r.statement)));
      expect(prepared.filter((statement) => !statement.includes("pg_catalog.pg_type"))).toEqual([]);
    } finally {
      await look.end();
    }

    const range = { since: START, until: START + DAY };
    const through = await store.report({ kind: "usage", groupBy: ["repo"], range });
    expect(through.totals.runs).toBe(420);
    expect(through.totals.costUsd).toBeCloseTo(210, 9);
    // The same schema read straight from the server says the same.
    const direct = open({ url: POSTGRES_URL, schema, readonly: true });
    expect((await direct.report({ kind: "usage", groupBy: ["repo"], range })).rows).toEqual(through.rows);
    expect(direct.behindPooler).toBe(false);
    // Tables went to the store's schema, not to the server's default one.
    expect(await direct.partitions()).toMatchObject({ executions: expect.arrayContaining(["2026-11"]) });
  }, 60_000);

  test("three stores writing every record twice while reading: each run stored once, nothing dropped", async () => {
    const schema = freshSchema("pool");
    const owners = [0, 1, 2].map(() => open({ schema, maxConnections: 2 }));
    await Promise.all(owners.map((s) => s.ready));
    const telemetries = owners.map((store) => createTelemetry({ store, maxBatchSize: 250 }));
    const total = 3000;
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      // Record i goes to two of the three telemetries: a replay through another server.
      const record = { id: `run-${i}`, createdAt: START + i * 1000, repo: `acme/r${i % 5}`, eventType: "pull_request.opened", model: "claude-sonnet-4-5", conclusion: "success" as const, inputTokens: 3, outputTokens: 1, costUsd: 0.25, durationMs: 50 + (i % 90) };
      telemetries[i % 3]!.recordExecution(record);
      telemetries[(i + 1) % 3]!.recordExecution(record);
      if (i % 500 === 0) reads.push(owners[i % 3]!.report({ kind: "usage", groupBy: ["repo"], range: { since: START, until: START + DAY } }));
    }
    await Promise.all(telemetries.map((t) => t.flush()));
    await Promise.all(reads);
    const dropped = telemetries.map((t) => t.stats().dropped);
    expect(dropped).toEqual(dropped.map(() => ({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 })));
    const report = await owners[0]!.report({ kind: "usage", groupBy: ["repo"], range: { since: START, until: START + DAY } });
    expect([report.totals.runs, report.totals.inputTokens, report.totals.costUsd]).toEqual([total, total * 3, total * 0.25]);
    // Each record was written by both its telemetries: once new, once found stored.
    expect(telemetries.reduce((sum, t) => sum + t.stats().written - t.stats().duplicates, 0)).toBe(total);
    expect(telemetries.reduce((sum, t) => sum + t.stats().duplicates, 0)).toBe(total);
    await Promise.all(telemetries.map((t) => t.shutdown({ timeoutMs: 2000 })));
  }, 120_000);

  test("retention, meta values and import progress work through the pooler", async () => {
    const schema = freshSchema("pool");
    const now = START + 40 * DAY;
    const store = open({ schema, now: () => now });
    await store.write([...runs("old", 10, START - 10 * DAY), ...runs("new", 5, now - DAY)]);
    expect(await store.countOlderThan(30)).toBe(10);
    expect(await store.purgeOlderThan(30)).toBe(10);
    expect(await store.countOlderThan(30)).toBe(0);
    expect(await store.executionsPurgedBefore()).toBe(now - 30 * DAY);
    // A record older than the purge is refused as expired, not stored again.
    expect(await store.write(runs("old", 1, START - 10 * DAY))).toMatchObject({ ok: true, inserted: 0, refused: 1 });
    expect(await store.setMeta("pooler_check", 42)).toBe(true);
    expect(await store.meta("pooler_check")).toBe(42);
    const state = { source: "claude-code", path: "/p/a.jsonl", size: 10, mtimeMs: 5, offset: 10, headHash: "h", lines: 2, malformed: 0, updatedAt: now };
    expect(await store.saveImportState(state)).toMatchObject({ ok: true });
    expect(await store.importState("claude-code", "/p/a.jsonl")).toEqual(state);
  }, 60_000);
});

describe("postgres URL options", () => {
  test("prepare takes true or false only (postgres.js would take any other value for true)", () => {
    expect(() => openPostgresStore({ url: "postgres://localhost/x?prepare=no" })).toThrow(TallyConfigError);
    expect(() => openPostgresStore({ url: "postgres://localhost/x?prepare=no" })).toThrow(/prepare must be true or false, got "no"/);
    for (const prepare of ["true", "false"]) void openPostgresStore({ url: `postgres://localhost:1/x?prepare=${prepare}`, connectTimeoutSeconds: 1 }).close();
  });
});
