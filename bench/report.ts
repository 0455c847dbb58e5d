/**
 * `tally report` on a large database, three shapes (30 days by repo, 24 hours by hour, 30 days
 * by day in Asia/Kolkata): from the rollups plus raw edges (default) vs a raw scan (--exact),
 * side by side in one run, in-process (query + formatting) and as a whole `tally` process. Run: `bun bench/report.ts` (ROWS=10000000 by default; the database is
 * generated once into $BENCH_DB, default /tmp/tally-bench-report-<ROWS>.db, and reused).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { runCli } from "../src/cli/main.ts";
import type { StoredRecord } from "../src/core/rows.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const ROWS = Number(process.env.ROWS ?? 10_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const DB = process.env.BENCH_DB ?? `/tmp/tally-bench-report-${ROWS}.db`;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12);

function generate(): void {
  const store = openSqliteStore({ path: DB, retentionDays: 0, checkpointEveryRows: 100_000 });
  const repos = Array.from({ length: 50 }, (_, i) => `acme/service-${i}`);
  const models = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"];
  const events = ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"];
  const conclusions = ["success", "success", "success", "success", "failure", "error"];
  const start = NOW - 100 * DAY;
  const step = (100 * DAY) / ROWS;
  const batchSize = 5000;
  const began = performance.now();
  for (let i = 0; i < ROWS; i += batchSize) {
    const batch: StoredRecord[] = [];
    for (let j = i; j < Math.min(ROWS, i + batchSize); j++) {
      batch.push({
        kind: "execution",
        row: {
          id: `bench-${j}`, createdAt: Math.floor(start + j * step), deliveryId: null, repo: repos[j % 50]!, prNumber: (j % 500) + 1,
          eventType: events[j % 3]!, provider: "anthropic", model: models[(j >> 3) % 5]!, inputTokens: 1000 + (j % 5000),
          outputTokens: 200 + (j % 800), cacheReadTokens: j % 20_000, cacheCreationTokens: j % 300, durationMs: 5000 + ((j * 7919) % 120_000),
          costUsd: 0.001 * (1 + (j % 50)), costSource: "reported", conclusion: conclusions[j % 6]!, sessionId: null, numTurns: 3,
          stopReason: "end_turn", attributes: null,
        },
      });
    }
    const result = store.write(batch);
    if (!result.ok) throw result.error;
    if (i % 500_000 === 0) process.stderr.write(`\rgenerating ${((i / ROWS) * 100).toFixed(0)}%`);
  }
  store.checkpoint();
  store.close();
  process.stderr.write(`\rgenerated ${ROWS} executions in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
}

function silentIo() {
  let out = "";
  return {
    io: { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (out += t) }, env: {}, cwd: process.cwd(), now: () => NOW, timeZone: () => "UTC" },
    output: () => out,
  };
}

async function timeInProcess(args: string[]): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const { io } = silentIo();
    const t0 = performance.now();
    const code = await runCli(["report", "--db", DB, ...args], io, COMMANDS);
    times.push(performance.now() - t0);
    if (code !== 0) throw new Error(`tally report ${args.join(" ")} exited ${code}`);
  }
  return times;
}

function timeProcess(args: string[]): number[] {
  const times: number[] = [];
  for (let r = 0; r < Math.min(ROUNDS, 5); r++) {
    const t0 = performance.now();
    const child = Bun.spawnSync([process.execPath, join(import.meta.dir, "../src/cli/bin.ts"), "report", "--db", DB, ...args], { stdout: "ignore" });
    times.push(performance.now() - t0);
    if (child.exitCode !== 0) throw new Error(`exit ${child.exitCode}`);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!existsSync(DB)) generate();
const size = statSync(DB).size;

/** The three shapes, each from rollups (plus raw edges) and with --exact, side by side. */
// Rolling windows ending at the generated data's "now", as ISO instants so that the whole-process
// runs (on the real clock) read exactly the same range as the in-process ones.
const iso = (ms: number) => new Date(ms).toISOString();
const window = (ms: number) => ["--since", iso(NOW - ms), "--until", iso(NOW)];
const SHAPES: { name: string; args: string[]; goalMs: number }[] = [
  { name: "30 days by repo (rolling, = --since 30d)", args: ["--by", "repo", ...window(30 * DAY), "--tz", "UTC"], goalMs: 50 },
  { name: "24 hours by hour (= --since 24h)", args: ["--by", "hour", ...window(DAY), "--tz", "UTC"], goalMs: 20 },
  { name: "30 days by day in Asia/Kolkata", args: ["--by", "day", ...window(30 * DAY), "--tz", "Asia/Kolkata"], goalMs: 50 },
];

const results: Record<string, { rollupMs: number[]; exactMs: number[]; processMs: number[] }> = {};
console.log(`\n## tally report on ${ROWS.toLocaleString("en-US")} executions over 100 days (${(size / 2 ** 30).toFixed(2)} GiB), median of ${ROUNDS}\n`);
console.log("| shape | rollups + raw edges, in-process | --exact, in-process | exact / rollups | whole `tally` process | goal |");
console.log("|---|---:|---:|---:|---:|---|");
for (const shape of SHAPES) {
  const rollupMs = await timeInProcess(shape.args);
  const exactMs = await timeInProcess([...shape.args, "--exact"]);
  const processMs = timeProcess(shape.args);
  results[shape.name] = { rollupMs, exactMs, processMs };
  const r = median(rollupMs);
  console.log(`| ${shape.name} | ${r.toFixed(1)} ms | ${median(exactMs).toFixed(1)} ms | ${(median(exactMs) / r).toFixed(0)}× | ${median(processMs).toFixed(1)} ms | < ${shape.goalMs} ms in-process: ${r < shape.goalMs ? "met" : "missed"} |`);
}
await Bun.write(join(import.meta.dir, "results/report.json"), JSON.stringify({ rows: ROWS, rounds: ROUNDS, results }, null, 2));
