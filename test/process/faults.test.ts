/**
 * Guarantee: the host never sees an exception or a rejected promise from Tally. Each fault
 * below (full disk, read-only file or directory, a lock held past busy_timeout, a corrupt
 * file, an impossible path) ends in a clear logged error and counted drops (or, for the
 * passing lock, records kept queued and written once it clears), and nothing reaches
 * `unhandledRejection` / `uncaughtException`.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTelemetry, type Telemetry } from "../../src/index.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanupTempDirs, collectingLogger, hostErrorTrap, inspectDb, sleep, spawnFixture, tempDir, type LogCall } from "./helpers.ts";

const NO_DROPS = { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 };

function run(command: string, ...args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

/** Whether this process may mount (root on Linux): probed once with a throwaway tmpfs. */
const canMount = (() => {
  if (process.platform !== "linux") return false;
  const probe = tempDir();
  if (!run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe)) return false;
  run("umount", probe);
  return true;
})();

/** Whether `chattr +i` works here (root, and a file system that supports it). */
const canChattr = (() => {
  if (process.platform !== "linux") return false;
  const probe = join(tempDir(), "probe");
  writeFileSync(probe, "");
  if (!run("chattr", "+i", probe)) return false;
  run("chattr", "-i", probe);
  return true;
})();

function execution(i: number, attributes?: Record<string, unknown>) {
  return { model: "claude-sonnet-4-5", conclusion: "success", repo: "org/repo", inputTokens: 10 + i, outputTokens: 5, costUsd: 0.01, ...(attributes ? { attributes } : {}) };
}

/** A valid database holding `rows` executions, closed again. */
async function validDb(dir: string, rows = 5): Promise<string> {
  const path = join(dir, "tally.db");
  const telemetry = createTelemetry({ store: openSqliteStore({ path }) });
  for (let i = 0; i < rows; i++) telemetry.recordExecution(execution(i));
  await telemetry.shutdown();
  return path;
}

/** The drop warnings for one reason: DropLog logs the first drop of an episode, then counts silently. */
function dropWarnings(calls: LogCall[], reason: string): LogCall[] {
  return calls.filter((c) => c.level === "warn" && c.obj.reason === reason);
}

/** Opens a store on `path`, records `count` executions, flushes; none of it may throw. */
async function recordAndFlush(path: string, count: number, storeOptions: object = {}) {
  const log = collectingLogger();
  let store!: SqliteStore;
  let telemetry!: Telemetry;
  expect(() => {
    store = openSqliteStore({ path, logger: log.logger, ...storeOptions });
    telemetry = createTelemetry({ store, logger: log.logger });
    for (let i = 0; i < count; i++) telemetry.recordExecution(execution(i));
  }).not.toThrow();
  await telemetry.flush();
  return { store, telemetry, log };
}

describe("faults never reach the host", () => {
  const trap = hostErrorTrap();
  beforeAll(() => trap.install());
  afterAll(() => {
    trap.uninstall();
    cleanupTempDirs();
  });

  /** Lets any stray rejection surface, then checks none did. */
  async function expectNoHostErrors(): Promise<void> {
    await sleep(20);
    expect(trap.seen).toEqual([]);
  }

  describe("full disk (a 1 MiB tmpfs)", () => {
    let mountPoint: string | undefined;
    afterAll(() => {
      if (mountPoint === undefined) return;
      Bun.gc(true); // in case anything still holds a file there
      if (!run("umount", mountPoint)) run("umount", "-l", mountPoint);
    });

    test.skipIf(!canMount)("SQLITE_FULL drops whole batches as writeFailed, logs once, keeps the file consistent, and recovers when space returns", async () => {
      mountPoint = tempDir();
      expect(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint)).toBe(true);
      // Ballast, so that freeing it later gives the disk room again.
      writeFileSync(join(mountPoint, "ballast"), Buffer.alloc(256 * 1024, 1));
      const path = join(mountPoint, "tally.db");
      const { logger, calls } = collectingLogger();
      const store = openSqliteStore({ path, logger });
      expect(store.unwritableReason).toBeNull();
      const telemetry = createTelemetry({ store, logger });

      // ~200 KiB per round: the disk fills within a few rounds; keep going a few rounds past it.
      let roundsAfterFull = 0;
      for (let round = 0; round < 40 && roundsAfterFull < 4; round++) {
        for (let i = 0; i < 50; i++) telemetry.recordExecution(execution(i, { pad: "x".repeat(4000), round }));
        await telemetry.flush();
        if (telemetry.stats().dropped.writeFailed > 0) roundsAfterFull++;
      }
      const full = telemetry.stats();
      expect(full.written).toBeGreaterThan(0); // it did write until the disk filled
      expect(full.dropped.writeFailed).toBeGreaterThanOrEqual(4 * 50);
      expect(full.dropped.writeFailed % 50).toBe(0); // whole batches, each rolled back as one
      expect(full.queued).toBe(0); // dropped, not piling up in memory
      expect(full.lastError).toMatch(/SQLITE_FULL/);
      const warnings = dropWarnings(calls, "writeFailed");
      expect(warnings).toHaveLength(1); // logged once for the whole episode
      expect(String(warnings[0]!.obj.cause)).toMatch(/SQLITE_FULL.*full/);

      // What did get in is intact, and no failed batch left a partial trace.
      const db = inspectDb(path);
      expect(db.integrity).toBe("ok");
      expect(db.executions).toBe(full.written);
      expect(db.runs).toBe(db.executions);

      // Space comes back: new records are written again and the episode's end is logged.
      rmSync(join(mountPoint, "ballast"));
      for (let i = 0; i < 10; i++) telemetry.recordExecution(execution(i));
      await telemetry.flush();
      expect(telemetry.stats().written).toBe(full.written + 10);
      expect(calls.some((c) => c.level === "info" && c.obj.reason === "writeFailed" && c.obj.dropped === full.dropped.writeFailed)).toBe(true);

      await telemetry.shutdown();
      expect(inspectDb(path).executions).toBe(full.written + 10);
      await expectNoHostErrors();
    });
  });

  describe("read-only", () => {
    test("a store opened with readonly: true counts every write as writeFailed and logs it once", async () => {
      const path = await validDb(tempDir());
      const { store, telemetry, log } = await recordAndFlush(path, 120, { readonly: true });
      expect(store.unwritableReason).toMatch(/read-only/);
      expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 120 } });
      const warnings = dropWarnings(log.calls, "writeFailed");
      expect(warnings).toHaveLength(1); // three failed batches, one warning
      expect(String(warnings[0]!.obj.cause)).toMatch(/read-only/);
      await telemetry.shutdown();
      expect(inspectDb(path).executions).toBe(5); // untouched
      await expectNoHostErrors();
    });

    describe.skipIf(!canChattr)("immutable (chattr +i), which stops root too", () => {
      const immutable: string[] = [];
      afterAll(() => {
        for (const path of immutable) run("chattr", "-i", path);
      });

      test("an immutable database file: writes fail as writeFailed (SQLITE_READONLY), logged once", async () => {
        const dir = tempDir();
        const path = await validDb(dir);
        expect(run("chattr", "+i", path)).toBe(true);
        immutable.push(path);
        const { telemetry, log } = await recordAndFlush(path, 120);
        expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 120 } });
        const warnings = dropWarnings(log.calls, "writeFailed");
        expect(warnings).toHaveLength(1);
        expect(String(warnings[0]!.obj.cause)).toMatch(/SQLITE_READONLY/);
        await telemetry.shutdown();
        run("chattr", "-i", path);
        expect(inspectDb(path).executions).toBe(5);
        await expectNoHostErrors();
      });

      // SQLite silently falls back to a read-only connection when the file cannot be opened
      // for writing; openSqliteStore probes with a rolled-back write and says so at open.
      test("an immutable database file: unwritable at open with SQLITE_READONLY named, one error logged, no misleading purge warning", async () => {
        const path = await validDb(tempDir());
        expect(run("chattr", "+i", path)).toBe(true);
        immutable.push(path);
        const log = { calls: [] as { level: string; obj: object; msg: string }[] };
        const at = (level: string) => (obj: object, msg?: string) => void log.calls.push({ level, obj, msg: msg ?? "" });
        const store = openSqliteStore({ path, logger: { error: at("error"), warn: at("warn"), info: at("info") } });
        try {
          expect(store.unwritableReason).toMatch(/read-only.*SQLITE_READONLY/);
          expect(log.calls.filter((c) => c.level === "error")).toHaveLength(1);
          expect(log.calls.filter((c) => /retention purge failed/.test(c.msg))).toEqual([]);
          const result = store.write([]);
          expect(result.ok).toBe(false);
        } finally {
          store.close();
        }
      });

      test("a database in an immutable directory (no -wal/-shm can be created): unwritable at open, error logged, writes counted", async () => {
        const dir = join(tempDir(), "frozen");
        mkdirSync(dir);
        const path = await validDb(dir);
        expect(run("chattr", "+i", dir)).toBe(true);
        immutable.push(dir);
        const { store, telemetry, log } = await recordAndFlush(path, 120);
        expect(store.unwritableReason).toMatch(/cannot open/);
        const errors = log.calls.filter((c) => c.level === "error");
        expect(errors).toHaveLength(1);
        expect(errors[0]!.obj).toMatchObject({ path, code: "SQLITE_CANTOPEN" });
        expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 120 } });
        expect(dropWarnings(log.calls, "writeFailed")).toHaveLength(1);
        await telemetry.shutdown();
        run("chattr", "-i", dir);
        expect(inspectDb(path).executions).toBe(5);
        await expectNoHostErrors();
      });
    });

    describe.skipIf(!canMount)("a read-only bind mount", () => {
      let mountPoint: string | undefined;
      afterAll(() => {
        if (mountPoint !== undefined && !run("umount", mountPoint)) run("umount", "-l", mountPoint);
      });

      test("a database on a read-only file system: unwritable at open, error logged, writes counted", async () => {
        mountPoint = tempDir();
        const path = await validDb(mountPoint);
        expect(run("mount", "--bind", mountPoint, mountPoint)).toBe(true);
        expect(run("mount", "-o", "remount,ro,bind", mountPoint)).toBe(true);
        const { store, telemetry, log } = await recordAndFlush(path, 120);
        expect(store.unwritableReason).toMatch(/cannot open/);
        const errors = log.calls.filter((c) => c.level === "error");
        expect(errors).toHaveLength(1);
        expect(errors[0]!.obj).toMatchObject({ path, code: "SQLITE_CANTOPEN" });
        expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 120 } });
        expect(dropWarnings(log.calls, "writeFailed")).toHaveLength(1);
        await telemetry.shutdown();
        await expectNoHostErrors();
      });
    });
  });

  test("a lock held past busy_timeout: records stay queued, one warning, then the retry writes all 100 exactly once", async () => {
    const dir = tempDir();
    const path = join(dir, "tally.db");
    const { logger, calls } = collectingLogger();
    const store = openSqliteStore({ path, logger, busyTimeoutMs: 200 });
    expect(store.unwritableReason).toBeNull();
    const holder = spawnFixture("lock-holder.ts", [path, "1500"]);
    try {
      await holder.waitForLine(/^locked$/);
      const telemetry = createTelemetry({ store, logger, retryBaseDelayMs: 20, maxRetryDelayMs: 100 });
      for (let i = 0; i < 100; i++) telemetry.recordExecution(execution(i));
      await telemetry.flush();

      // The write timed out on the lock: retryable, so nothing is dropped and all 100 wait.
      const blocked = telemetry.stats();
      expect(blocked).toMatchObject({ queued: 100, written: 0, dropped: NO_DROPS });
      expect(blocked.lastError).toMatch(/SQLITE_BUSY/);
      const warnings = calls.filter((c) => c.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/temporarily unavailable/);
      expect(String(warnings[0]!.obj.error)).toMatch(/SQLITE_BUSY/);

      // Retries keep failing while the lock is held, still without dropping or re-warning.
      while (telemetry.stats().flushes < blocked.flushes + 2) await sleep(20);
      expect(telemetry.stats()).toMatchObject({ queued: 100, written: 0, dropped: NO_DROPS });
      expect(calls.filter((c) => c.level === "warn")).toHaveLength(1);

      holder.closeStdin(); // release (after at least 1.5 s in all)
      await holder.waitForLine(/^released$/);
      expect(await holder.exitWithin(10_000)).toBe(0);

      // The scheduled retry, not a flush() from us, writes everything.
      for (let waited = 0; telemetry.stats().written < 100 && waited < 10_000; waited += 20) await sleep(20);
      expect(telemetry.stats()).toMatchObject({ queued: 0, written: 100, dropped: NO_DROPS });
      expect(calls.some((c) => c.level === "info" && /writable again/.test(c.msg ?? ""))).toBe(true);
      await telemetry.shutdown();

      const db = inspectDb(path);
      expect(db.executions).toBe(100); // exactly once: the ids were kept across retries
      expect(db.runs).toBe(100);
      await expectNoHostErrors();
    } finally {
      if (holder.proc.exitCode === null) holder.proc.kill("SIGKILL");
    }
  }, 30_000);

  test("a corrupt file at open: no throw, unwritableReason set, error logged, writes counted, file untouched", async () => {
    const path = join(tempDir(), "corrupt.db");
    const garbage = randomBytes(64 * 1024);
    writeFileSync(path, garbage);
    const { store, telemetry, log } = await recordAndFlush(path, 10);
    expect(store.unwritableReason).toMatch(/not a database/);
    const errors = log.calls.filter((c) => c.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.obj).toMatchObject({ path, code: "SQLITE_NOTADB" });
    expect(errors[0]!.msg).toMatch(/not a database/);
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 10 } });
    expect(dropWarnings(log.calls, "writeFailed")).toHaveLength(1);
    await telemetry.shutdown();
    expect(readFileSync(path).equals(garbage)).toBe(true);
    await expectNoHostErrors();
  });

  test("a path whose parent is a regular file: no throw, unwritableReason set, error logged, writes counted", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "not-a-dir"), "plain file");
    const path = join(dir, "not-a-dir", "sub", "tally.db");
    const { store, telemetry, log } = await recordAndFlush(path, 10);
    expect(store.unwritableReason).toMatch(/ENOTDIR/);
    const errors = log.calls.filter((c) => c.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.obj).toMatchObject({ path, code: "ENOTDIR" });
    expect(telemetry.stats()).toMatchObject({ queued: 0, written: 0, dropped: { ...NO_DROPS, writeFailed: 10 } });
    expect(dropWarnings(log.calls, "writeFailed")).toHaveLength(1);
    await telemetry.shutdown();
    expect(readFileSync(join(dir, "not-a-dir"), "utf8")).toBe("plain file");
    await expectNoHostErrors();
  });
});
