/**
 * The writer's COPY fast path on a real server: COPY's text format round-trips every value,
 * a COPY the server refuses (after its data was sent, or while it waits on a lock) rejects
 * instead of hanging, and a batch written by COPY stores and rolls up exactly what the
 * row-by-row statement does; a batch holding a stored id falls back to it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Batch, ExecutionRow } from "../../src/core/rows.ts";
import { transaction } from "../../src/store/postgres/connection.ts";
import type { ColumnValue } from "../../src/store/postgres/columns.ts";
import { copyInto, copyText } from "../../src/store/postgres/copy.ts";
import { Partitions } from "../../src/store/postgres/partitions.ts";
import { COPY_MIN_ROWS, IdsStoredAlreadyError, writeBatch, type PostgresBatchOutcome } from "../../src/store/postgres/write.ts";
import { execution, toolCall } from "../contract/rows.ts";
import { closeStores, freshSchema, openTestStore, rawConnection, SKIP_REASON } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
afterAll(closeStores);

const HOUR = Date.UTC(2026, 10, 20, 10);
/** The stores' clock: the records' day, whatever day the tests run on. */
const now = () => HOUR + 3_600_000;

/** Resolves to "hung" if `promise` has not settled within `ms`, so a hang fails an assertion instead of the test's timeout. */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T | "hung"> {
  return Promise.race([promise, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms).unref?.())]);
}

/** Runs `body` on a connection to a fresh schema holding one table made by `ddl`; drops the schema after. */
async function withTable(ddl: string, body: (db: ReturnType<typeof rawConnection>, schema: string) => Promise<void>): Promise<void> {
  const schema = freshSchema();
  const db = rawConnection(schema);
  try {
    await db.unsafe(`CREATE SCHEMA ${schema}`);
    await db.unsafe(ddl);
    await body(db, schema);
  } finally {
    await db.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await db.end();
  }
}

/**
 * Waits until a backend matching `which` (`pid = $1`, or `application_name = $1`) waits on a
 * lock, then terminates it; returns its pid.
 */
async function terminateWhenWaiting(which: "pid" | "application_name", value: string | number): Promise<number | undefined> {
  const admin = rawConnection("public");
  try {
    for (let i = 0; i < 200; i++) {
      const [row] = await admin.unsafe(`SELECT pid FROM pg_stat_activity WHERE ${which} = $1 AND wait_event_type = 'Lock'`, [value] as never[]);
      if (row !== undefined) {
        await admin.unsafe("SELECT pg_terminate_backend($1)", [row.pid] as never[]);
        return row.pid as number;
      }
      await Bun.sleep(20);
    }
    return undefined;
  } finally {
    await admin.end();
  }
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

suite("postgres COPY: the text format", () => {
  test("tabs, newlines, carriage returns, backslashes, a literal \\N, unicode, empty strings, NULLs and numbers round-trip", async () => {
    await withTable("CREATE TABLE t (n int, a text, b float8, c int8)", async (db) => {
      const rows: ColumnValue[][] = [
        [1, "tab\there", 0.1, 9007199254740991],
        [2, "line\nbreak\r\nwindows", 1e-12, -1],
        [3, "back\\slash \\N and \\t written out", 12345.678, 0],
        [4, "\\N", null, null],
        [5, "", 0, null],
        [6, null, 3.5e300, 42],
        [7, `é 🦀 中文 '); DROP TABLE t; -- {"a":[1,2]} "q"`, 5e-324, 1],
        [8, "\\", -0.5, 2],
      ];
      await db.begin((tx) => copyInto(tx, "t", ["n", "a", "b", "c"], copyText(rows, (r) => r)));
      const back = await db.unsafe("SELECT n, a, b, c FROM t ORDER BY n");
      expect(back.map((r) => [r.n, r.a, r.b, r.c === null ? null : Number(r.c)])).toEqual(rows);
    });
  });
});

suite("postgres COPY: a refused COPY rejects, never hangs", () => {
  test("a duplicate key found after the data was sent rejects with 23505; the transaction rolls back, the connection works on", async () => {
    await withTable("CREATE TABLE t (id text PRIMARY KEY)", async (db) => {
      await db.unsafe("INSERT INTO t VALUES ('b')");
      const error = await settlesWithin(errorOf(transaction(db, "", (tx) => copyInto(tx, "t", ["id"], copyText([["a"], ["b"], ["c"]], (r) => r)))), 5000);
      expect((error as { code?: string }).code).toBe("23505");
      await transaction(db, "", (tx) => copyInto(tx, "t", ["id"], copyText([["d"]], (r) => r)));
      expect((await db.unsafe("SELECT id FROM t ORDER BY id")).map((r) => r.id)).toEqual(["b", "d"]);
    });
  });

  test("a bad value (a NUL byte, a float in an integer column) rejects with its data-exception code", async () => {
    await withTable("CREATE TABLE t (a text, c int8)", async (db) => {
      for (const row of [["a\u0000b", 1], ["x", 1.5]] as ColumnValue[][]) {
        const error = await settlesWithin(errorOf(db.begin((tx) => copyInto(tx, "t", ["a", "c"], copyText([row], (r) => r)))), 5000);
        expect((error as { code?: string }).code).toStartWith("22");
      }
      expect((await db.unsafe("SELECT 1 AS ok"))[0]!.ok).toBe(1); // the connection is usable again
    });
  });

  test("a COPY waiting on another transaction's row, whose connection is then terminated, rejects; the process lives on", async () => {
    await withTable("CREATE TABLE t (id text PRIMARY KEY)", async (holder, schema) => {
      const copier = rawConnection(schema);
      try {
        const [{ pid }] = (await copier.unsafe("SELECT pg_backend_pid() AS pid")) as unknown as [{ pid: number }];
        let release!: () => void;
        const holding = holder.begin(async (tx) => {
          await tx.unsafe("INSERT INTO t VALUES ('x')");
          await new Promise<void>((resolve) => (release = resolve));
        });
        await Bun.sleep(100);
        // Through the store's `transaction`: a bare sql.begin would send its ROLLBACK on the dead
        // connection a tick later, and postgres.js would throw where nothing catches it.
        const copying = errorOf(transaction(copier, "", (tx) => copyInto(tx, "t", ["id"], copyText([["x"]], (r) => r))));
        expect(await terminateWhenWaiting("pid", pid)).toBe(pid);
        expect(await settlesWithin(copying, 5000)).toBeInstanceOf(Error);
        release();
        await holding;
      } finally {
        await copier.end({ timeout: 1 });
      }
    });
  });
});

/** Runs writeBatch in a transaction on `schema`, returning its outcome or error and the statements it sent (their first two words). */
async function writeLogged(schema: string, batch: Batch, copy: boolean): Promise<{ outcome?: PostgresBatchOutcome; error?: unknown; statements: string[] }> {
  const db = rawConnection(schema);
  const statements: string[] = [];
  try {
    await new Partitions(db, schema).ensure(batch.map((r) => (r.row as { createdAt: number }).createdAt));
    const outcome = await transaction(db, "", (tx) => writeBatch(new Proxy(tx, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        return key === "unsafe" ? (text: string, ...rest: unknown[]) => {
          statements.push(text.trim().split(/\s+/).slice(0, 2).join(" "));
          return (value as (...args: unknown[]) => unknown).call(target, text, ...rest);
        } : value;
      },
    }), batch, { copy }));
    return { outcome, statements };
  } catch (error) {
    return { error, statements };
  } finally {
    await db.end();
  }
}

function executions(n: number, from = 0, overrides: Partial<ExecutionRow> = {}): Batch {
  return Array.from({ length: n }, (_, i) => execution({
    id: `e-${String(from + i).padStart(5, "0")}`, createdAt: HOUR + (from + i) * 1000, repo: `acme/r${(from + i) % 3}`, durationMs: 100 + (from + i),
    inputTokens: 10 + (from + i), costUsd: 0.25, attributes: JSON.stringify({ note: "tab\there\nline \\ back" }), ...overrides,
  }));
}

/** A report's rows without the sketch-estimated percentiles (a rollup's and a raw scan's differ by design). */
function sums<R extends { p50DurationMs: unknown; p95DurationMs: unknown }>(rows: readonly R[]): unknown[] {
  return rows.map(({ p50DurationMs: _p50, p95DurationMs: _p95, ...rest }) => rest);
}

/** Every rollup and raw table of a schema, rows sorted, for comparing two schemas. */
async function contents(schema: string): Promise<Record<string, unknown[]>> {
  const db = rawConnection(schema);
  try {
    const out: Record<string, unknown[]> = {};
    for (const table of ["executions", "executions_ids", "tool_calls", "tool_calls_ids", "daily_usage", "daily_model_usage", "hourly_usage", "hourly_model_usage",
      "quarter_hour_usage", "daily_tool_usage", "daily_tool_sessions"]) {
      out[table] = (await db.unsafe(`SELECT * FROM ${table}`)).map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    await db.end();
  }
}

suite("postgres COPY: batches written by COPY", () => {
  test(`${COPY_MIN_ROWS}+ new rows of a kind go in by COPY and store exactly what the row-by-row statement stores`, async () => {
    const viaCopy = openTestStore({ now });
    const viaRows = openTestStore({ copy: false, now });
    await Promise.all([viaCopy.ready, viaRows.ready]);
    const calls = Array.from({ length: COPY_MIN_ROWS + 50 }, (_, i) => toolCall({ id: `t-${i}`, createdAt: HOUR + i, sessionId: `s-${i % 7}`, toolName: `tool-${i % 4}`, durationMs: i }));
    const batch = [...executions(COPY_MIN_ROWS + 100), ...calls];
    const copied = await writeLogged(viaCopy.schema, batch, true);
    const rowByRow = await writeLogged(viaRows.schema, batch, false);
    expect([copied.error, rowByRow.error]).toEqual([undefined, undefined]);
    expect(copied.statements.filter((s) => s.startsWith("COPY"))).toEqual(["COPY executions_ids", "COPY executions", "COPY tool_calls_ids", "COPY tool_calls"]);
    expect(rowByRow.statements.some((s) => s.startsWith("COPY"))).toBe(false);
    expect(copied.outcome).toEqual(rowByRow.outcome);
    expect(copied.outcome!.inserted).toBe(batch.length);
    expect(await contents(viaCopy.schema)).toEqual(await contents(viaRows.schema));
  });

  test(`fewer than ${COPY_MIN_ROWS} rows of a kind go in row by row`, async () => {
    const store = openTestStore({ now });
    await store.ready;
    const { statements, outcome } = await writeLogged(store.schema, executions(COPY_MIN_ROWS - 1), true);
    expect(statements.some((s) => s.startsWith("COPY"))).toBe(false);
    expect(outcome!.inserted).toBe(COPY_MIN_ROWS - 1);
  });

  test("a batch holding stored ids: COPY refuses it whole (rolled back), the store writes it row by row: new rows once, stored ones as duplicates", async () => {
    const store = openTestStore({ now });
    await store.ready;
    const first = await store.write(executions(10, 100)); // e-00100 … e-00109
    expect(first.ok && first.inserted).toBe(10);
    const batch = executions(300); // e-00000 … e-00299: ten of them stored already
    const { error, statements } = await writeLogged(store.schema, batch, true);
    expect(error).toBeInstanceOf(IdsStoredAlreadyError);
    expect(statements.filter((s) => s.startsWith("COPY"))).toEqual(["COPY executions_ids"]);
    const db = rawConnection(store.schema);
    const count = async (table: string) => (await db.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n as number;
    try {
      expect([await count("executions_ids"), await count("executions")]).toEqual([10, 10]); // nothing of the refused COPY left
      const written = await store.write(batch);
      expect(written.ok).toBe(true);
      if (written.ok) expect([written.inserted, written.duplicateIndexes]).toEqual([290, Array.from({ length: 10 }, (_, i) => 100 + i)]);
      expect([await count("executions_ids"), await count("executions")]).toEqual([300, 300]);
    } finally {
      await db.end();
    }
    const range = { since: HOUR, until: HOUR + 86_400_000 };
    const report = await store.report({ kind: "usage", groupBy: ["repo"], range });
    const exact = await store.report({ kind: "usage", groupBy: ["repo"], range, exact: true });
    expect(report.totals.runs).toBe(300);
    expect(sums(report.rows)).toEqual(sums(exact.rows));
  });

  test("stored ids in the second kind of a write (tool calls after new runs): the whole write is redone row by row, each record once", async () => {
    const store = openTestStore({ now });
    await store.ready;
    const calls = (from: number, n: number) => Array.from({ length: n }, (_, i) => toolCall({ id: `c-${from + i}`, createdAt: HOUR + from + i, toolName: "search", durationMs: 10 }));
    const first = await store.write(calls(0, 150));
    expect(first.ok && first.inserted).toBe(150);
    const batch = [...executions(300), ...calls(0, 150), ...calls(150, 100)];
    const written = await store.write(batch);
    expect(written.ok).toBe(true);
    if (written.ok) expect([written.inserted, written.duplicates]).toEqual([400, 150]);
    const range = { since: HOUR, until: HOUR + 86_400_000 };
    const [runs, tools] = await Promise.all([store.report({ kind: "usage", groupBy: [], range }), store.report({ kind: "tools", groupBy: [], range })]);
    expect([runs.totals.runs, tools.totals.calls]).toEqual([300, 250]);
  });

  test("the same COPY-sized batch written twice, then by two stores at once: stored once, counted once", async () => {
    const a = openTestStore({ now });
    await a.ready;
    const { openPostgresStore } = await import("../../src/store/postgres/index.ts");
    const b = openPostgresStore({ url: process.env.TALLY_TEST_POSTGRES_URL!, schema: a.schema, retentionDays: 0, now });
    try {
      const batch = executions(400);
      const again = executions(400, 400);
      const once = await a.write(batch);
      const twice = await a.write(batch);
      expect([once.ok && once.inserted, twice.ok && twice.duplicates]).toEqual([400, 400]);
      const [x, y] = await Promise.all([a.write(again), b.write(again)]);
      expect(x.ok && y.ok).toBe(true);
      if (x.ok && y.ok) expect([x.inserted + y.inserted, (x.duplicates ?? 0) + (y.duplicates ?? 0)]).toEqual([400, 400]);
      const range = { since: HOUR, until: HOUR + 86_400_000 };
      const report = await a.report({ kind: "usage", groupBy: ["repo"], range });
      const exact = await a.report({ kind: "usage", groupBy: ["repo"], range, exact: true });
      expect(report.totals.runs).toBe(800);
      expect(sums(report.rows)).toEqual(sums(exact.rows));
    } finally {
      await b.close();
    }
  });

  test("a NUL byte in a COPY-sized batch: the write is refused as the batch's fault, the store writes on", async () => {
    const store = openTestStore({ now });
    await store.ready;
    const batch = executions(300);
    (batch[150]!.row as ExecutionRow).repo = "a\u0000b";
    const bad = await settlesWithin(store.write(batch), 10_000);
    expect(bad !== "hung" && !bad.ok && bad.failure).toBe("rejected");
    const good = await store.write(executions(300, 1000));
    expect(good.ok && good.inserted).toBe(300);
  });
});

suite("postgres: a connection that dies mid-write", () => {
  for (const size of [COPY_MIN_ROWS + 100, 5]) {
    test(`a write of ${size} records whose backend is terminated while it waits: retryable, the process lives on, the next write stores it once`, async () => {
      const store = openTestStore({ maxConnections: 1, now }); // the next write must work on the same connection
      await store.ready;
      const batch = executions(size);
      const holder = rawConnection(store.schema);
      const admin = rawConnection(store.schema);
      try {
        // Another transaction holds the claim of one of the batch's ids: the store's write waits for it.
        let release!: () => void;
        let claimed!: () => void;
        const holdsClaim = new Promise<void>((resolve) => (claimed = resolve));
        const holding = holder.begin(async (tx) => {
          await tx.unsafe("INSERT INTO executions_ids (id, created_at) VALUES ($1, $2)", [batch[0]!.row.id, HOUR] as never[]);
          claimed();
          await new Promise<void>((resolve) => (release = resolve));
          throw new Error("roll back");
        }).catch(() => {});
        await holdsClaim; // not a sleep: a write sent before the claim is held would just go through
        const writing = store.write(batch);
        expect(await terminateWhenWaiting("application_name", "tally")).toBeNumber();
        const result = await settlesWithin(writing, 10_000);
        expect(result !== "hung" && !result.ok && result.failure).toBe("retryable");
        release();
        await holding;
        // The connection's next statement may still meet the old FATAL (one more retryable
        // failure); the writer retries retryable failures, so does this test, a few times.
        let again = await store.write(batch);
        for (let attempt = 0; attempt < 3 && !again.ok && again.failure === "retryable"; attempt++) again = await store.write(batch);
        expect(again.ok && again.inserted).toBe(size);
        const [row] = await admin.unsafe("SELECT count(*)::int AS n FROM executions");
        expect(row!.n).toBe(size);
      } finally {
        await holder.end();
        await admin.end();
      }
    });
  }
});
