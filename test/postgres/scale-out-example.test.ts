/**
 * examples/scale-out/run.sh as a user runs it (on the test server through DATABASE_URL, in a
 * schema of its own that it drops): three `tally serve`, two producers, then the report.
 * Every record sent twice is stored once; sent once, stored once.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { POSTGRES_URL, SKIP_REASON } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;
const ROOT = join(import.meta.dir, "../..");
const PRODUCERS = 2;
const RUNS = 150;
/** Tool calls per run in producer.ts: 1 + (i % 3). */
const CALLS = Array.from({ length: RUNS }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);

suite("examples/scale-out/run.sh", () => {
  for (const copies of [1, 2]) {
    test(`every record sent ${copies === 1 ? "once" : "twice"}: each stored once, the report's total is every run`, async () => {
      const child = Bun.spawn(["bash", "examples/scale-out/run.sh"], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: POSTGRES_URL, PRODUCERS: String(PRODUCERS), RUNS: String(RUNS), COPIES: String(copies) },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect({ code, err: err.includes("NOT WRITTEN") ? err : "" }).toEqual({ code: 0, err: "" });
      const records = RUNS + CALLS;
      const producers = out.split("\n").filter((line) => line.startsWith("producer "));
      expect(producers.length).toBe(PRODUCERS);
      for (const line of producers) {
        expect(line).toContain(`sent ${records * copies} records, ${records} stored, ${records * (copies - 1)} recognised as copies`);
      }
      const total = out.split("\n").find((line) => line.startsWith("Total"));
      expect(total?.split(/\s+/)[1]).toBe(String(PRODUCERS * RUNS));
    }, 120_000);
  }
});
