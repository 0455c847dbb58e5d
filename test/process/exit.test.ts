/**
 * Guarantee: a normal exit loses nothing. A child records 10,000 executions and never calls
 * shutdown(); whether it calls process.exit(0) or just ends (beforeExit), every record is
 * in the database afterwards, with rollups to match.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupTempDirs, inspectDb, spawnFixture, tempDir } from "./helpers.ts";

const COUNT = 10_000;

type Line = { at: string; queued: number; written: number; dropped: Record<string, number>; lastError: string | null };

async function runChild(mode: "exit" | "natural", batchSize?: number): Promise<{ path: string; byAt: Map<string, Line> }> {
  const path = join(tempDir(), "tally.db");
  const child = spawnFixture("exit-child.ts", [path, mode, String(COUNT), ...(batchSize ? [String(batchSize)] : [])]);
  const code = await child.exitWithin(30_000);
  const stderr = await child.stderr();
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  await child.waitForLine(/"exit-after"/);
  const byAt = new Map<string, Line>();
  for (const line of child.lines) {
    const parsed = JSON.parse(line) as Line;
    byAt.set(parsed.at, parsed);
  }
  return { path, byAt };
}

const noDrops = { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 };

describe("normal exit without shutdown()", () => {
  afterAll(cleanupTempDirs);

  test("process.exit(0) right after recording 10,000 executions loses none", async () => {
    const { path, byAt } = await runChild("exit");
    // Nothing had been written when process.exit ran: the exit hook did all of it.
    expect(byAt.get("recorded")).toMatchObject({ queued: COUNT, written: 0, dropped: noDrops });
    expect(byAt.get("exit-before")).toMatchObject({ queued: COUNT, written: 0 });
    expect(byAt.get("exit-after")).toMatchObject({ queued: 0, written: COUNT, dropped: noDrops, lastError: null });

    const db = inspectDb(path);
    expect(db.integrity).toBe("ok");
    expect(db.executions).toBe(COUNT);
    expect(db.runs).toBe(COUNT);
    expect(db.rollupInputTokens).toBe(db.inputTokens);
  });

  test("ending naturally (beforeExit) after recording 10,000 executions loses none", async () => {
    // batchSize 64 leaves 10,000 % 64 = 16 records in a partial batch that only the
    // beforeExit flush writes (the interval timer is unref'd and would never fire).
    const { path, byAt } = await runChild("natural", 64);
    expect(byAt.get("recorded")).toMatchObject({ queued: COUNT, written: 0, dropped: noDrops });
    const atBeforeExit = byAt.get("beforeExit")!;
    expect(atBeforeExit.queued).toBe(COUNT % 64);
    // By the time "exit" fires, beforeExit has written everything; the exit hook had nothing left.
    expect(byAt.get("exit-before")).toMatchObject({ queued: 0, written: COUNT, dropped: noDrops, lastError: null });
    expect(byAt.get("exit-after")).toMatchObject({ queued: 0, written: COUNT, dropped: noDrops });

    const db = inspectDb(path);
    expect(db.integrity).toBe("ok");
    expect(db.executions).toBe(COUNT);
    expect(db.runs).toBe(COUNT);
    expect(db.rollupInputTokens).toBe(db.inputTokens);
  });
});
