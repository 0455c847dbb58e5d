import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createSystemClock, createTelemetry, type ExecutionRecord, type Telemetry, type WriteResult } from "../../src/index.ts";
import { ManualClock, settle } from "../support/manual-clock.ts";
import { collectingLogger, observedSqliteStore, ScriptedStore } from "../support/stores.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { expectNoUnhandledRejections } from "../support/no-unhandled.ts";

afterAll(removeTempDirs);

const run = (n = 0): ExecutionRecord => ({
  repo: "acme/api", eventType: "pull_request.opened", model: "claude-sonnet-4-5", conclusion: "success",
  inputTokens: 100 + n, outputTokens: 10, costUsd: 0.001, durationMs: 1000,
});
const ok = (batch: { length: number }): WriteResult => ({ ok: true, inserted: batch.length });

expectNoUnhandledRejections();

const open: Telemetry[] = [];
function telemetryFor(options: Parameters<typeof createTelemetry>[0]): Telemetry {
  const telemetry = createTelemetry({ flushOnExit: false, ...options });
  open.push(telemetry);
  return telemetry;
}
afterEach(async () => {
  for (const t of open.splice(0)) await t.shutdown({ timeoutMs: 1 });
});

describe("batching", () => {
  test("nothing is written until a batch of 50 fills; the 50th record flushes exactly 50", async () => {
    const clock = new ManualClock();
    const { store, batches, count } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock });
    for (let i = 0; i < 49; i++) telemetry.recordExecution(run(i));
    await settle();
    expect(batches).toEqual([]);
    telemetry.recordExecution(run(49));
    await settle();
    expect(batches).toEqual([50]);
    expect(count("executions")).toBe(50);
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 50, flushes: 1 });
  });

  test("full batches flush at once and the partial tail waits for the timer", async () => {
    const clock = new ManualClock();
    const { store, batches } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock });
    for (let i = 0; i < 120; i++) telemetry.recordExecution(run(i));
    await settle();
    // Two full batches were waiting: they go out together, in whole batches; the tail waits.
    expect(batches).toEqual([100]);
    expect(telemetry.stats().queued).toBe(20);
  });

  test("a backlog drains in writes of up to maxBatchSize; a flush takes the partial tail too", async () => {
    const { store, batches, count } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock: new ManualClock(), maxBatchSize: 200 });
    for (let i = 0; i < 730; i++) telemetry.recordExecution(run(i));
    await settle(10);
    expect(batches).toEqual([200, 200, 200, 100]);
    await telemetry.flush();
    expect(batches).toEqual([200, 200, 200, 100, 30]);
    expect(count("executions")).toBe(730);
  });

  test("maxBatchSize defaults to the store's preferredMaxBatchSize; the option wins; a preference that is no sane size is ignored", async () => {
    const drain = async (preferred: unknown, options: { maxBatchSize?: number } = {}) => {
      const { store, batches } = observedSqliteStore();
      const telemetry = telemetryFor({ store: { ...store, preferredMaxBatchSize: preferred as number }, clock: new ManualClock(), ...options });
      for (let i = 0; i < 1300; i++) telemetry.recordExecution(run(i));
      await settle(10);
      return batches;
    };
    expect(await drain(300)).toEqual([300, 300, 300, 300, 100]);
    expect(await drain(300, { maxBatchSize: 650 })).toEqual([650, 650]);
    expect(await drain(undefined)).toEqual([500, 500, 300]);
    for (const nonsense of [0, -5, 2.5, Number.NaN, "5000", 1e9, null]) expect(await drain(nonsense)).toEqual([500, 500, 300]);
  });

  test("steady traffic still goes out in batches of batchSize", async () => {
    const { store, batches } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 50; i++) telemetry.recordExecution(run(i));
      await settle();
    }
    expect(batches).toEqual([50, 50, 50, 50]);
  });

  test("a partial batch is written when flushIntervalMs passes, not before", async () => {
    const clock = new ManualClock();
    const { store, batches } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock, flushIntervalMs: 5000 });
    telemetry.recordExecution(run());
    telemetry.recordToolCall({ toolName: "Read", outcome: "ok" });
    await clock.advance(4999);
    expect(batches).toEqual([]);
    await clock.advance(1);
    expect(batches).toEqual([2]);
  });

  test("the system clock's timers do not keep the process alive", () => {
    const clock = createSystemClock();
    const handle = clock.setTimeout(() => {}, 60_000) as { hasRef(): boolean };
    expect(handle.hasRef()).toBe(false);
    clock.clearTimeout(handle);
  });

  test("batchSize is configurable and impossible options throw a typed error", async () => {
    const { store, batches } = observedSqliteStore();
    const telemetry = telemetryFor({ store, batchSize: 3, maxBatchSize: 3, clock: new ManualClock() });
    for (let i = 0; i < 7; i++) telemetry.recordExecution(run(i));
    await settle();
    expect(batches).toEqual([3, 3]);
    expect(() => createTelemetry({ store, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createTelemetry({ store, maxQueueSize: -1 })).toThrow(/maxQueueSize/);
    expect(() => createTelemetry({ store: {} as never })).toThrow(/store/);
  });
});

describe("one flush in flight", () => {
  test("a slow asynchronous store never sees two writes at once, and order is kept", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const release: (() => void)[] = [];
    const store = new ScriptedStore((batch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<WriteResult>((resolve) => release.push(() => {
        inFlight--;
        resolve(ok(batch));
      }));
    });
    const telemetry = telemetryFor({ store, clock: new ManualClock(), maxBatchSize: 50 });
    for (let i = 0; i < 200; i++) telemetry.recordExecution(run(i));
    const flushed = telemetry.flush();
    const second = telemetry.flush();
    while (store.calls.length < 4 || release.length > 0) {
      await settle();
      release.shift()?.();
    }
    await Promise.all([flushed, second]);
    expect(maxInFlight).toBe(1);
    expect(store.calls.map((b) => b.length)).toEqual([50, 50, 50, 50]);
    const tokens = store.calls.flat().map((r) => (r.row as { inputTokens: number }).inputTokens);
    expect(tokens).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
  });
});

describe("flush()", () => {
  test("a flush with nothing to write leaves the writer able to write later", async () => {
    const { store, count } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    await telemetry.flush();
    await telemetry.flush();
    for (let i = 0; i < 50; i++) telemetry.recordExecution(run(i));
    await settle();
    expect(count("executions")).toBe(50);
    telemetry.recordExecution(run());
    await telemetry.flush();
    expect(count("executions")).toBe(51);
  });

  test("flush() during a loop started by a full batch waits for the partial tail too", async () => {
    const { store, count } = observedSqliteStore();
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    for (let i = 0; i < 60; i++) telemetry.recordExecution(run(i));
    await Promise.resolve(); // the batch-full loop has started
    await telemetry.flush();
    expect(count("executions")).toBe(60);
    expect(telemetry.stats().queued).toBe(0);
  });
});

describe("maxQueueSize", () => {
  test("drops the newest records beyond the bound, counts them, and logs once per episode", async () => {
    const logger = collectingLogger();
    let release: (() => void) | undefined;
    // The first write hangs until the test releases it; later writes succeed.
    const store = new ScriptedStore((batch, call) =>
      call === 1 ? new Promise<WriteResult>((resolve) => (release = () => resolve(ok(batch)))) : ok(batch),
    );
    const telemetry = telemetryFor({ store, logger, maxQueueSize: 100 });
    for (let i = 0; i < 150; i++) telemetry.recordExecution(run(i));
    expect(telemetry.stats().dropped.queueFull).toBe(50);
    expect(telemetry.stats().queued).toBe(100);
    const warnings = logger.entries.filter((e) => e.level === "warn" && /queueFull/.test(e.msg));
    expect(warnings).toHaveLength(1);
    // Let the hung write succeed and drain: what reaches the store is the oldest 100, in order.
    await settle();
    expect(release).toBeDefined();
    release!();
    await telemetry.flush();
    const tokens = store.calls.flat().map((r) => (r.row as { inputTokens: number }).inputTokens);
    expect(tokens).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 100, dropped: { queueFull: 50 } });
  });

  test("the episode ends once writes succeed again, reporting the total", async () => {
    const logger = collectingLogger();
    const clock = new ManualClock();
    const { store } = observedSqliteStore();
    const telemetry = telemetryFor({ store, logger, maxQueueSize: 60, clock });
    for (let i = 0; i < 70; i++) telemetry.recordExecution(run(i));
    await telemetry.flush();
    const ended = logger.entries.find((e) => e.level === "info" && /stopped dropping records \(queueFull\)/.test(e.msg));
    expect(ended?.obj).toEqual({ reason: "queueFull", dropped: 10 });
  });
});

describe("poisoned records", () => {
  test("a batch refused for one record is retried row by row and only that record is dropped", async () => {
    const { store: real, count } = observedSqliteStore();
    const store = new ScriptedStore((batch) =>
      batch.some((r) => (r.row as { repo?: string }).repo === "poison")
        ? { ok: false, failure: "rejected", error: new Error("CHECK constraint failed") }
        : (real.write(batch) as WriteResult),
    );
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    for (let i = 0; i < 50; i++) telemetry.recordExecution(i === 17 ? { ...run(i), repo: "poison" } : run(i));
    await telemetry.flush();
    expect(count("executions")).toBe(49);
    expect(telemetry.stats().dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 1, afterShutdown: 0 });
    expect(store.calls.map((b) => b.length)).toEqual([50, ...Array(50).fill(1)]);
  });
});

describe("a failing store never reaches the host", () => {
  test("a store that throws: records are dropped as writeFailed, logged once, nothing thrown", async () => {
    const logger = collectingLogger();
    const store = new ScriptedStore(() => {
      throw new Error("disk on fire");
    });
    const telemetry = telemetryFor({ store, logger, clock: new ManualClock() });
    for (let i = 0; i < 120; i++) telemetry.recordExecution(run(i));
    await telemetry.flush();
    expect(telemetry.stats().dropped.writeFailed).toBe(120);
    expect(telemetry.stats().lastError).toBe("disk on fire");
    expect(logger.entries.filter((e) => e.level === "warn" && /writeFailed/.test(e.msg))).toHaveLength(1);
  });

  test("a store whose promise rejects: counted, no unhandled rejection", async () => {
    const store = new ScriptedStore(() => Promise.reject(new Error("connection reset")));
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    for (let i = 0; i < 10; i++) telemetry.recordExecution(run(i));
    await telemetry.flush();
    await settle();
    expect(telemetry.stats().dropped.writeFailed).toBe(10);
  });

  test("a store that hangs: the write times out, records stay queued, and a later retry writes them once", async () => {
    const clock = new ManualClock();
    const { store: real, count } = observedSqliteStore();
    const store = new ScriptedStore((batch, call) => (call === 1 ? new Promise<WriteResult>(() => {}) : (real.write(batch) as WriteResult)));
    const telemetry = telemetryFor({ store, clock, writeTimeoutMs: 1000, retryBaseDelayMs: 100 });
    for (let i = 0; i < 5; i++) telemetry.recordExecution(run(i));
    const flushed = telemetry.flush();
    await clock.advance(1000);
    await flushed;
    expect(telemetry.stats()).toMatchObject({ queued: 5, written: 0 });
    expect(telemetry.stats().lastError).toMatch(/did not settle within 1000 ms/);
    await clock.advance(100);
    expect(count("executions")).toBe(5);
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 5 });
    // The retry carried the same ids as the abandoned attempt.
    expect(store.calls[1]!.map((r) => r.row.id)).toEqual(store.calls[0]!.map((r) => r.row.id));
  });

  test("transient errors are retried with doubling, capped backoff and lose nothing", async () => {
    const clock = new ManualClock();
    const { store: real, count } = observedSqliteStore();
    const logger = collectingLogger();
    const store = new ScriptedStore((batch, call) =>
      call <= 4 ? { ok: false, failure: "retryable", error: new Error("SQLITE_BUSY") } : (real.write(batch) as WriteResult),
    );
    const telemetry = telemetryFor({ store, clock, logger, retryBaseDelayMs: 100, maxRetryDelayMs: 300 });
    for (let i = 0; i < 50; i++) telemetry.recordExecution(run(i));
    await settle();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      delays.push(clock.pendingDelays()[0]!);
      await clock.advance(clock.pendingDelays()[0]!);
    }
    expect(delays).toEqual([100, 200, 300, 300]);
    expect(count("executions")).toBe(50);
    expect(telemetry.stats().dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
    expect(logger.entries.filter((e) => /temporarily unavailable/.test(e.msg))).toHaveLength(1);
    expect(logger.entries.filter((e) => /writable again/.test(e.msg))).toHaveLength(1);
  });

  test("a write that committed but reported a lost connection is retried without counting twice", async () => {
    const { store: real, count, path } = observedSqliteStore();
    const store = new ScriptedStore((batch, call) => {
      const result = real.write(batch) as WriteResult;
      return call === 1 ? { ok: false, failure: "retryable", error: new Error("connection lost after commit") } : result;
    });
    const clock = new ManualClock();
    const telemetry = telemetryFor({ store, clock, retryBaseDelayMs: 10 });
    for (let i = 0; i < 50; i++) telemetry.recordExecution(run(i));
    await settle();
    await clock.advance(10);
    expect(store.calls.length).toBeGreaterThanOrEqual(2); // the retry did happen
    expect(count("executions")).toBe(50);
    expect(count("daily_usage")).toBe(1);
    // One rollup row either way; its run count is what would double if the retry were counted again.
    const db = new Database(path, { readonly: true });
    try {
      const { runs } = db.query("SELECT sum(runs) AS runs FROM daily_usage").get() as { runs: number };
      expect(runs).toBe(50);
    } finally {
      db.close();
    }
  });

  test("a logger that throws breaks nothing", async () => {
    const throwing = { error() { throw new Error("x"); }, warn() { throw new Error("x"); }, info() { throw new Error("x"); } };
    const store = new ScriptedStore(() => ({ ok: false, failure: "failed", error: new Error("read-only") }));
    const telemetry = telemetryFor({ store, logger: throwing, clock: new ManualClock() });
    telemetry.recordExecution(run());
    telemetry.recordExecution(null as never);
    await telemetry.flush();
    expect(telemetry.stats().dropped).toMatchObject({ writeFailed: 1, invalid: 1 });
  });
});

describe("shutdown", () => {
  test("drains everything queued, closes the store, and refuses later records with a count", async () => {
    const { store, count, path } = observedSqliteStore();
    const telemetry = createTelemetry({ store, flushOnExit: false });
    for (let i = 0; i < 1234; i++) telemetry.recordExecution(run(i));
    telemetry.startSession("s-1", { source: "mcp" });
    telemetry.endSession("s-1");
    await telemetry.shutdown();
    expect(count("executions")).toBe(1234);
    expect(count("sessions")).toBe(1);
    telemetry.recordExecution(run());
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 1236, dropped: { afterShutdown: 1 } });
    await telemetry.shutdown(); // twice is fine
    void path;
  });

  test("gives up after timeoutMs on a store that stays unavailable, counting what it could not write", async () => {
    const clock = new ManualClock();
    const store = new ScriptedStore(() => ({ ok: false, failure: "retryable", error: new Error("SQLITE_BUSY") }));
    const telemetry = createTelemetry({ store, clock, flushOnExit: false, retryBaseDelayMs: 100 });
    for (let i = 0; i < 75; i++) telemetry.recordExecution(run(i));
    const done = telemetry.shutdown({ timeoutMs: 1000 });
    for (let i = 0; i < 20; i++) await clock.advance(100);
    await done;
    expect(telemetry.stats()).toMatchObject({ queued: 0, dropped: { writeFailed: 75 } });
    expect(store.closed).toBe(true);
  });
});

describe("exit hooks", () => {
  test("are installed by default and removed by shutdown()", async () => {
    const before = process.listenerCount("exit");
    const beforeExitBase = process.listenerCount("beforeExit");
    const telemetry = createTelemetry({ store: new ScriptedStore(ok) });
    expect(process.listenerCount("exit")).toBe(before + 1);
    expect(process.listenerCount("beforeExit")).toBeGreaterThan(0);
    expect(process.listenerCount("beforeExit")).toBe(beforeExitBase + 1);
    await telemetry.shutdown();
    expect(process.listenerCount("exit")).toBe(before);
    expect(process.listenerCount("beforeExit")).toBe(beforeExitBase);
  });

  test("flushOnExit: false installs none", () => {
    const before = process.listenerCount("exit");
    telemetryFor({ store: new ScriptedStore(ok) });
    expect(process.listenerCount("exit")).toBe(before);
  });
});

describe("records", () => {
  test("ids are made once, at first flush, and a given id is kept", async () => {
    const store = new ScriptedStore(ok);
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    telemetry.recordExecution({ ...run(), id: "my-id" });
    telemetry.recordExecution(run());
    await telemetry.flush();
    const ids = store.calls[0]!.map((r) => r.row.id);
    expect(ids[0]).toBe("my-id");
    expect(ids[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("createdAt defaults to the moment of recording and accepts ms, Date and ISO strings", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new ScriptedStore(ok);
    const telemetry = telemetryFor({ store, clock });
    telemetry.recordExecution(run());
    await clock.advance(60_000);
    telemetry.recordExecution({ ...run(), createdAt: 1_700_000_000_000 });
    telemetry.recordExecution({ ...run(), createdAt: new Date(Date.UTC(2025, 5, 1)) });
    telemetry.recordExecution({ ...run(), createdAt: "2025-06-01T10:00:00.250Z" });
    await telemetry.flush();
    expect(store.calls.flat().map((r) => (r.row as { createdAt: number }).createdAt)).toEqual([
      Date.UTC(2026, 0, 1), 1_700_000_000_000, Date.UTC(2025, 5, 1), Date.UTC(2025, 5, 1, 10, 0, 0, 250),
    ]);
  });

  test("runs without a cost are priced; an unknown model is unpriced, not $0 silently", async () => {
    const store = new ScriptedStore(ok);
    const telemetry = telemetryFor({ store, clock: new ManualClock() });
    telemetry.recordExecution({ ...run(), costUsd: undefined, inputTokens: 1000, outputTokens: 1000 });
    telemetry.recordExecution({ ...run(), costUsd: undefined, model: "made-up-model-7" });
    telemetry.recordExecution({ ...run(), costUsd: 0.5 });
    await telemetry.flush();
    const rows = store.calls[0]!.map((r) => r.row as { costUsd: number; costSource: string });
    expect(rows[0]!.costSource).toBe("computed");
    expect(rows[0]!.costUsd).toBeCloseTo(1000 * 3e-6 + 1000 * 15e-6, 12);
    expect(rows[1]).toMatchObject({ costSource: "unpriced", costUsd: 0 });
    expect(rows[2]).toMatchObject({ costSource: "reported", costUsd: 0.5 });
  });

  test("custom prices add models and override bundled ones", async () => {
    const store = new ScriptedStore(ok);
    const telemetry = telemetryFor({
      store,
      clock: new ManualClock(),
      pricing: { prices: { "our-finetune": { inputMtok: 1, outputMtok: 2 }, "claude-sonnet-4-5": { inputMtok: 10, outputMtok: 10 } } },
    });
    telemetry.recordExecution({ ...run(), costUsd: undefined, model: "our-finetune", inputTokens: 1_000_000, outputTokens: 500_000 });
    telemetry.recordExecution({ ...run(), costUsd: undefined, inputTokens: 100_000, outputTokens: 0 });
    await telemetry.flush();
    const rows = store.calls[0]!.map((r) => r.row as { costUsd: number; costSource: string });
    expect(rows[0]!.costUsd).toBeCloseTo(2, 9);
    expect(rows[1]!.costUsd).toBeCloseTo(1, 9);
  });
});
