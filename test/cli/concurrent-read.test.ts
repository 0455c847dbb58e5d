/**
 * `tally report` against a database another process is filling (WAL): every run succeeds and
 * the totals it reports never go down, whether answered from the rollups or from raw rows.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { tally } from "./harness.ts";

const WRITE_FOR_MS = 2500;

afterAll(removeTempDirs);

test("reports while a child process writes: all exit 0, totals never decrease, the last one sees every row", async () => {
  const path = join(tempDir(), "tally.db");
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures/fill-writer.ts"), path, String(WRITE_FOR_MS)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  try {
    const readyBy = performance.now() + 15_000;
    while (!out.includes("ready\n") && child.exitCode === null && performance.now() < readyBy) await Bun.sleep(5);
    expect(out).toContain("ready\n");

    const seen: { runs: number; source: string }[] = [];
    const failures: string[] = [];
    const deadline = performance.now() + WRITE_FOR_MS + 10_000;
    for (let i = 0; child.exitCode === null && performance.now() < deadline; i++) {
      // Alternate the rollups (default) and raw rows (--exact).
      const run = await tally(["report", "--db", path, "--by", "repo", "--json", ...(i % 2 === 1 ? ["--exact"] : [])], { now: Date.now() });
      if (run.code !== 0 || run.stderr !== "") failures.push(`read ${i}: exit ${run.code} ${run.stderr}`);
      else {
        const doc = JSON.parse(run.stdout);
        seen.push({ runs: doc.totals.runs, source: doc.source });
      }
      await Bun.sleep(2);
    }
    expect(await child.exited).toBe(0);
    await reading;
    const written = Number(/done (\d+)/.exec(out)?.[1]);

    expect(failures).toEqual([]);
    expect(seen.length).toBeGreaterThan(20);
    expect(new Set(seen.map((s) => s.source))).toEqual(new Set(["rollups", "raw"]));
    // The reads overlapped the writes: they saw the totals move, many times.
    expect(new Set(seen.map((s) => s.runs)).size).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) {
      if (seen[i]!.runs < seen[i - 1]!.runs) throw new Error(`totals went down between read ${i - 1} and ${i}: ${JSON.stringify(seen.slice(i - 1, i + 1))}`);
    }
    for (const extra of [[], ["--exact"]]) {
      const last = JSON.parse((await tally(["report", "--db", path, "--json", ...extra])).stdout);
      expect(last.totals.runs).toBe(written);
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}, 30_000);
