/**
 * Guarantee: another process can read the database while Tally writes it (WAL). A child
 * writes continuously for a few seconds while this process, again and again, opens its own
 * read-only connection and reads totals: every read succeeds and totals never go down.
 *
 * The reader sets no busy timeout of its own (bun:sqlite's default is 0), so any lock that
 * blocked a reader would surface here as SQLITE_BUSY. The writer keeps its connection open
 * until the reads are over: closing the last connection runs SQLite's final checkpoint under
 * an exclusive lock, which a reader without a busy timeout can briefly see as SQLITE_BUSY
 * (plain SQLite behaviour, and not "while it is written").
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupTempDirs, sleep, spawnFixture, tempDir } from "./helpers.ts";

const WRITE_FOR_MS = 3000;
const MAX_READS = 5000;

type Totals = { count: number; tokens: number };

function readTotals(path: string): Totals {
  const db = new Database(path, { readonly: true });
  try {
    return db.query("SELECT count(*) AS count, coalesce(sum(input_tokens), 0) AS tokens FROM executions").get() as Totals;
  } finally {
    db.close();
  }
}

describe("reading while another process writes", () => {
  afterAll(cleanupTempDirs);

  test("every read on a fresh read-only connection succeeds and totals never decrease", async () => {
    const path = join(tempDir(), "tally.db");
    const child = spawnFixture("steady-writer.ts", [path, String(WRITE_FOR_MS)]);
    try {
      await child.waitForLine(/^ready$/);
      const writing = () => !child.lines.some((line) => line.startsWith("flushed ")) && child.proc.exitCode === null;

      const deadline = performance.now() + WRITE_FOR_MS + 10_000;
      const reads: Totals[] = [];
      const errors: string[] = [];
      while (writing() && reads.length + errors.length < MAX_READS && performance.now() < deadline) {
        try {
          reads.push(readTotals(path));
        } catch (error) {
          errors.push(`after ${reads.length} reads: ${(error as { code?: string }).code ?? ""} ${(error as Error).message}`);
        }
        await sleep(1); // lets the child's stdout be read
      }
      const flushedLine = await child.waitForLine(/^flushed /, 15_000);
      const flushed = JSON.parse(flushedLine.slice("flushed ".length)) as { written: number; queued: number };
      // One more read, now that the writer has flushed everything: it sees exactly what was written.
      const last = readTotals(path);

      expect(errors).toEqual([]);
      // The reads overlapped the writes: they saw the totals move, many times.
      expect(reads.length).toBeGreaterThan(20);
      expect(new Set(reads.map((r) => r.count)).size).toBeGreaterThan(5);
      reads.push(last);
      for (let i = 1; i < reads.length; i++) {
        if (reads[i]!.count < reads[i - 1]!.count || reads[i]!.tokens < reads[i - 1]!.tokens) {
          throw new Error(`totals went down between read ${i - 1} and ${i}: ${JSON.stringify(reads[i - 1])} -> ${JSON.stringify(reads[i])}`);
        }
      }
      expect(flushed.queued).toBe(0);
      expect(last.count).toBe(flushed.written);

      child.closeStdin();
      expect(await child.exitWithin(15_000)).toBe(0);
      const done = JSON.parse((await child.waitForLine(/^done /)).slice("done ".length)) as {
        written: number;
        dropped: Record<string, number>;
      };
      expect(done.written).toBe(flushed.written);
      expect(done.dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
      expect(readTotals(path).count).toBe(done.written);
    } finally {
      if (child.proc.exitCode === null) child.proc.kill("SIGKILL");
    }
  }, 45_000);
});
