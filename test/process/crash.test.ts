/**
 * Guarantee: kill -9 never corrupts the database. A writer child is SIGKILLed at a random
 * moment, again and again on the same file; after each kill the file passes
 * `PRAGMA integrity_check`, the rollups match the raw rows exactly (they are written in the
 * same transaction), and openSqliteStore reopens the file and writes to it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createTelemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanupTempDirs, collectingLogger, inspectDb, sleep, spawnFixture, tempDir } from "./helpers.ts";

const ITERATIONS = 8;

describe("SIGKILL while writing", () => {
  afterAll(cleanupTempDirs);

  test(`${ITERATIONS} random kills leave an intact database whose rollups match its rows`, async () => {
    const path = join(tempDir(), "tally.db");
    let previous = 0;
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const child = spawnFixture("crash-writer.ts", [path]);
      await child.waitForLine(/^started \d+/);
      const delay = 50 + Math.floor(Math.random() * 351);
      await sleep(delay);
      expect(child.proc.exitCode).toBeNull(); // still writing when killed
      child.proc.kill("SIGKILL");
      await child.exited;
      expect(child.proc.signalCode).toBe("SIGKILL");

      const context = `iteration ${iteration}, killed ${delay} ms after start`;
      const walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
      expect({ context, walLeftBehind: walBytes > 0 }).toEqual({ context, walLeftBehind: true });
      // Even iterations look at the file first (a plain connection recovers the WAL); odd ones
      // leave the recovery to openSqliteStore itself.
      const inspectFirst = iteration % 2 === 0;
      if (inspectFirst) {
        const after = inspectDb(path);
        expect({ context, integrity: after.integrity }).toEqual({ context, integrity: "ok" });
        expect({ context, runs: after.runs }).toEqual({ context, runs: after.executions });
        expect({ context, tokens: after.rollupInputTokens }).toEqual({ context, tokens: after.inputTokens });
        expect({ context, calls: after.rollupCalls }).toEqual({ context, calls: after.toolCalls });
        // The child committed at least one batch before "started", so rows only ever accumulate.
        expect(after.executions).toBeGreaterThan(previous);
        previous = after.executions;
      }

      // The store reopens the killed file and writes to it.
      const { logger, calls } = collectingLogger();
      const store = openSqliteStore({ path, logger });
      expect({ context, unwritableReason: store.unwritableReason }).toEqual({ context, unwritableReason: null });
      const telemetry = createTelemetry({ store, logger });
      for (let i = 0; i < 10; i++) {
        telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", inputTokens: 1, costUsd: 0.01 });
      }
      await telemetry.shutdown();
      expect(telemetry.stats()).toMatchObject({ written: 10, queued: 0, dropped: { writeFailed: 0, invalid: 0 } });
      expect(calls.filter((c) => c.level === "error" || c.level === "warn")).toEqual([]);

      const reopened = inspectDb(path);
      expect({ context, integrity: reopened.integrity }).toEqual({ context, integrity: "ok" });
      expect({ context, runs: reopened.runs }).toEqual({ context, runs: reopened.executions });
      expect({ context, tokens: reopened.rollupInputTokens }).toEqual({ context, tokens: reopened.inputTokens });
      expect({ context, calls: reopened.rollupCalls }).toEqual({ context, calls: reopened.toolCalls });
      if (inspectFirst) expect(reopened.executions).toBe(previous + 10);
      else expect(reopened.executions).toBeGreaterThan(previous + 10);
      previous = reopened.executions;
    }
  }, 60_000);
});
