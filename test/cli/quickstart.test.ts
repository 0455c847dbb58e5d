/**
 * The README's first steps, as a newcomer runs them: the quickstart records 300 runs spread
 * over the last 7 × 24 hours, and `tally report --since 7d` shows all of them (it showed 292
 * when 7d meant "today and the six calendar days before it"). Real processes, real clock:
 * only relative times are involved, so the result does not depend on the day.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterAll(removeTempDirs);

const ROOT = join(import.meta.dir, "../..");

function run(cmd: string[], env: Record<string, string>) {
  const proc = Bun.spawnSync(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

test("every quickstart run is in --since 7d; --since 1d is the last 24 hours", () => {
  const db = join(tempDir(), "tally.db");
  const quickstart = run([process.execPath, "examples/quickstart.ts"], { TALLY_DB: db });
  expect(quickstart.code).toBe(0);
  const report = (since: string) => {
    const result = run([process.execPath, "src/cli/bin.ts", "report", "--db", db, "--since", since, "--json"], { TZ: "Asia/Kolkata" });
    expect(result.stderr).toBe("");
    return JSON.parse(result.stdout) as { totals: { runs: number }; range: { timeZone: string } };
  };
  const week = report("7d");
  expect(week.totals.runs).toBe(300);
  expect(week.range.timeZone).toBe("Asia/Kolkata");
  // Run i was recorded (i / 300) × 7 days ago: i = 0 … 42 fall in the last 24 hours.
  expect(report("1d").totals.runs).toBe(43);
}, 30_000);
