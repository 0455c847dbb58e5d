/**
 * Claude Code import: Tally's first import (MB/s of JSONL) and a later run after 1 % more
 * data (import of what was appended + the per-day report), side by side with
 * `ccusage daily --offline --json` v18 (JavaScript) and v20.0.24 (native binary), all on the
 * same generated corpus. Every tool runs as its own process, started the way a user starts it,
 * so process start-up is included for everyone; the page cache is warm for everyone (the
 * corpus was just written). Token totals per day are compared too (ccusage with TZ=UTC).
 *
 *   bun bench/import.ts                         # 200 MB
 *   IMPORT_BENCH_MB=1024 bun bench/import.ts    # the issue's 1 GB
 *
 * Knobs: IMPORT_BENCH_MB (default 200), IMPORT_BENCH_RUNS (timed runs per measurement,
 * default 3, the median is reported), IMPORT_BENCH_DIR (where the corpus goes; default a
 * temp dir, removed at the end), CCUSAGE18 (ccusage 18's dist/index.js; default the
 * devDependency), CCUSAGE20 (ccusage 20.0.24's native binary; default the
 * `@ccusage/ccusage-linux-x64` devDependency's, run directly as before), IMPORT_BENCH_NODE=1
 * (also time Tally on Node from dist/, after `npm run build`).
 *
 * Totals: Tally keeps each streamed response's final snapshot, as ccusage 20 does, so all four
 * token kinds are compared with ccusage 20; ccusage 18 keeps the first, partial snapshot, so
 * only input and cache tokens are compared with it. The corpus has no responses without a
 * requestId, which ccusage 20 counts differently (see README, "Importing Claude Code transcripts").
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { basename, dirname, join } from "node:path";
import { findTranscriptFiles } from "../src/capture/claude-code/find-files.ts";
import { importClaudeCodeTranscripts } from "../src/capture/claude-code/import-transcripts.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { ExpectedTotals, generateTranscripts, Randomness, SessionLines } from "../test/fixtures/claude-code/generate-transcripts.ts";

const ROOT = join(import.meta.dir, "..");
const MB = Number(process.env.IMPORT_BENCH_MB ?? 200);
const RUNS = Math.max(1, Number(process.env.IMPORT_BENCH_RUNS ?? 3));
const CCUSAGE18 = process.env.CCUSAGE18 ?? join(ROOT, "node_modules/ccusage/dist/index.js");
const CCUSAGE20 = process.env.CCUSAGE20 ?? join(ROOT, "node_modules/@ccusage/ccusage-linux-x64/bin/ccusage");
// npm unpacks the binary without its execute bit; ccusage's own launcher sets it on first use.
if (existsSync(CCUSAGE20)) chmodSync(CCUSAGE20, 0o755);
const NODE_DIST = join(ROOT, "dist/cli/bin.js");
const BUN = process.execPath;

type Tokens = { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number };
type Daily = Record<string, Tokens>;

interface Timed {
  ms: number;
  stdout: string;
}

/** Runs a command to completion; its wall time, including process start-up. */
function run(command: string[], env: Record<string, string | undefined> = {}): Timed {
  const started = performance.now();
  const child = spawnSync(command[0]!, command.slice(1), { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`${command.join(" ")} exited ${child.status}: ${child.stderr}`);
  return { ms, stdout: child.stdout };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median wall time of `RUNS` runs, with `before()` (untimed) ahead of each. */
function timed(label: string, command: () => string[], env: Record<string, string> = {}, before: () => void = () => {}): { ms: number; all: number[]; last: Timed } {
  const all: number[] = [];
  let last: Timed | undefined;
  for (let i = 0; i < RUNS; i++) {
    before();
    last = run(command(), env);
    all.push(last.ms);
  }
  console.error(`  ${label}: ${all.map((ms) => ms.toFixed(0)).join(", ")} ms`);
  return { ms: median(all), all, last: last! };
}

function ccusageDaily(stdout: string): Daily {
  const parsed = JSON.parse(stdout) as { daily: ({ date?: string; period?: string } & Tokens)[] };
  return Object.fromEntries(parsed.daily.map((d) => [d.date ?? d.period!, pickTokens(d)]));
}

function pickTokens(d: Tokens): Tokens {
  return { inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheReadTokens: d.cacheReadTokens, cacheCreationTokens: d.cacheCreationTokens };
}

function tallyDaily(db: string): Daily {
  const store = openSqliteStore({ path: db, readonly: true, retentionDays: 0 });
  try {
    return Object.fromEntries(store.report({ kind: "usage", groupBy: ["day"], range: {} }).rows.map((r) => [r.group.day!, pickTokens(r)]));
  } finally {
    store.close();
  }
}

/** Adds per-day tokens (ccusage 18's recount of copied lines without requestId) to Tally's days. */
function plus(days: Daily, extra: Map<string, Tokens>): Daily {
  const sum: Daily = structuredClone(days);
  for (const [day, t] of extra) {
    const d = (sum[day] ??= { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 });
    for (const k of Object.keys(d) as (keyof Tokens)[]) d[k] += t[k];
  }
  return sum;
}

/** Compares input and cache tokens with ccusage 18 (its output tokens are each response's first, partial snapshot). */
function compare18(tally: Daily, cc: Daily): string {
  const withoutOutput = (d: Daily): Daily => Object.fromEntries(Object.entries(d).map(([day, t]) => [day, { ...t, outputTokens: 0 }]));
  const verdict = compare(plus(withoutOutput(tally), corpus.expected.recountedByCcusage18), withoutOutput(cc));
  return `input and cache tokens ${verdict}`;
}

/** "equal", or how the totals differ. */
function compare(a: Daily, b: Daily): string {
  const days = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const sum = (d: Daily, k: keyof Tokens) => Object.values(d).reduce((s, t) => s + t[k], 0);
  const differing = days.filter((day) => JSON.stringify(a[day]) !== JSON.stringify(b[day]));
  if (differing.length === 0) return `equal on all ${days.length} days`;
  const keys: (keyof Tokens)[] = ["inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens"];
  const totals = keys.map((k) => `${k.replace("Tokens", "")} ${((sum(b, k) / sum(a, k) - 1) * 100).toFixed(2)} %`).join(", ");
  return `differs on ${differing.length} of ${days.length} days (totals vs Tally: ${totals})`;
}

function removeDb(db: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db}${suffix}`, { force: true });
}

const mbps = (bytes: number, ms: number) => (bytes / 2 ** 20 / (ms / 1000)).toFixed(1);
const seconds = (ms: number) => (ms / 1000).toFixed(ms < 1000 ? 3 : 2);

// ---------------------------------------------------------------------------------------------

const workDir = process.env.IMPORT_BENCH_DIR ?? mkdtempSync(join(tmpdir(), "tally-bench-import-"));
const configDir = join(workDir, "claude");
const db = join(workDir, "tally.db");
const snapshot = join(workDir, "tally-after-first-import.db");
const have18 = existsSync(CCUSAGE18);
const have20 = existsSync(CCUSAGE20);
const haveNode = process.env.IMPORT_BENCH_NODE === "1" && existsSync(NODE_DIST);
const ccEnv = { TZ: "UTC", CLAUDE_CONFIG_DIR: configDir, NO_COLOR: "1" };

// A corpus left by an earlier run (another seed or size) would be read too: start afresh.
rmSync(configDir, { recursive: true, force: true });
console.error(`generating ${MB} MB of transcripts in ${configDir} …`);
const started = performance.now();
const corpus = generateTranscripts({
  configDir, seed: 1, projects: 12, turnsPerSession: 60, toolOutputBytes: 3000, spanMs: 30 * 86_400_000, targetBytes: MB * 2 ** 20,
  withoutRequestId: false,
});
console.error(`  ${corpus.files.length} files, ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB, ${corpus.expected.responses} responses in ${corpus.expected.responseLines} lines, ${((performance.now() - started) / 1000).toFixed(1)} s`);

const tallyImport = () => [BUN, join(ROOT, "src/cli/bin.ts"), "import", "claude-code", corpus.projectsDir, "--db", db, "--json"];
const tallyReport = () => [BUN, join(ROOT, "src/cli/bin.ts"), "report", "--by", "day", "--db", db, "--json"];
const nodeImport = () => ["node", NODE_DIST, "import", "claude-code", corpus.projectsDir, "--db", db, "--json"];

console.error("first import (fresh database each run):");
const first = timed("tally (bun)", tallyImport, {}, () => removeDb(db));
const firstSummary = JSON.parse(first.last.stdout) as { bytesRead: number; imported: number; linesRead: number };
const firstNode = haveNode ? timed("tally (node)", nodeImport, {}, () => removeDb(db)) : undefined;
// The database the incremental runs start from: the last first-import, folded into one file.
removeDb(db);
run(tallyImport());
openSqliteStore({ path: db, retentionDays: 0 }).close();
copyFileSync(db, snapshot);
const tallyFirstDaily = tallyDaily(db);

const cc18 = have18 ? timed("ccusage 18", () => ["node", CCUSAGE18, "daily", "--json", "--offline"], ccEnv) : undefined;
const cc20 = have20 ? timed("ccusage 20 (native)", () => [CCUSAGE20, "daily", "--json", "--offline"], ccEnv) : undefined;
const firstVs18 = cc18 ? compare18(tallyFirstDaily, ccusageDaily(cc18.last.stdout)) : "n/a";
const firstVs20 = cc20 ? compare(tallyFirstDaily, ccusageDaily(cc20.last.stdout)) : "n/a";

// 1 % more: ten sessions go on for a while, on the day after the corpus ends.
console.error("appending 1 % …");
const appendTarget = Math.round(corpus.bytes * 0.01);
const growing = corpus.files.filter((f) => basename(dirname(f)) !== "subagents").slice(-10);
const random = new Randomness(7);
const extra = new ExpectedTotals();
let appended = 0;
const sessions = growing.map((file, i) => new SessionLines({
  random, expected: extra, sessionId: basename(file, ".jsonl"), cwd: "/home/dev/src/tally-app", version: "2.0.31",
  model: "claude-sonnet-4-5-20250929", startMs: Date.UTC(2026, 1, 10, 8) + i * 600_000, toolOutputBytes: 3000, variety: true,
  withoutRequestId: false,
}));
for (let i = 0; appended < appendTarget; i++) {
  const text = sessions[i % sessions.length]!.turn();
  appendFileSync(growing[i % growing.length]!, text);
  appended += Buffer.byteLength(text);
}
const grownBytes = corpus.bytes + appended;

console.error("later run (import of what was appended + report --by day), from the first import's database:");
// The copy is flushed to disk before the clock starts: otherwise the import's first fsync
// (a WAL checkpoint) would pay for writing out the whole freshly copied file, which no user's
// long-lived database makes it do (measured: ~150 ms of a 1 GB corpus's later run).
const restore = () => {
  removeDb(db);
  copyFileSync(snapshot, db);
  const fd = openSync(db, "r+");
  fsyncSync(fd);
  closeSync(fd);
};
const incImport = timed("tally import (bun)", tallyImport, {}, restore);
const incSummary = JSON.parse(incImport.last.stdout) as { bytesRead: number; imported: number; linesRead: number };
const incReport = timed("tally report --by day (bun)", tallyReport);
const incBoth = timed("tally import + report, one shell line (bun)", () => ["sh", "-c", `${tallyImport().join(" ")} >/dev/null && ${tallyReport().join(" ")} >/dev/null`], {}, restore);

// In-process: the import and the report themselves, without the runtime's start-up.
const inProcess: number[] = [];
for (let i = 0; i < RUNS; i++) {
  restore();
  const t = performance.now();
  const store = openSqliteStore({ path: db, retentionDays: 0 });
  const found = await findTranscriptFiles([corpus.projectsDir]);
  await importClaudeCodeTranscripts({ store, files: found.files });
  store.report({ kind: "usage", groupBy: ["day"], range: {} });
  store.close();
  inProcess.push(performance.now() - t);
}
console.error(`  in-process import + report: ${inProcess.map((ms) => ms.toFixed(0)).join(", ")} ms`);
const incInProcess = median(inProcess);
const tallyGrownDaily = tallyDaily(db);

const cc18Later = have18 ? timed("ccusage 18 on the grown corpus", () => ["node", CCUSAGE18, "daily", "--json", "--offline"], ccEnv) : undefined;
const cc20Later = have20 ? timed("ccusage 20 on the grown corpus", () => [CCUSAGE20, "daily", "--json", "--offline"], ccEnv) : undefined;
const laterVs18 = cc18Later ? compare18(tallyGrownDaily, ccusageDaily(cc18Later.last.stdout)) : "n/a";
const laterVs20 = cc20Later ? compare(tallyGrownDaily, ccusageDaily(cc20Later.last.stdout)) : "n/a";

// ---------------------------------------------------------------------------------------------

const version = (cmd: string[]) => {
  try {
    return run(cmd).stdout.trim().split("\n")[0];
  } catch {
    return "?";
  }
};
const dbMiB = (statSync(snapshot).size / 2 ** 20).toFixed(1);
const lines: string[] = [];
const out = (s = "") => lines.push(s);
out(`Corpus: ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB of generated transcripts (${corpus.files.length} files, ${corpus.expected.lines} lines, ${corpus.expected.responses} API responses written as ${corpus.expected.responseLines} lines); then +${(appended / 2 ** 20).toFixed(2)} MiB (1 %) appended to ${growing.length} sessions.`);
out(`Machine: ${availableParallelism()} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB; bun ${Bun.version}; node ${version(["node", "--version"])}; ccusage ${have18 ? version(["node", CCUSAGE18, "--version"]) : "18 not installed"} / ${have20 ? version([CCUSAGE20, "--version"]) : "20 not installed"}. Median of ${RUNS} runs, warm page cache, wall time of each process.`);
out();
out("| first import | time | MB/s |");
out("| --- | ---: | ---: |");
out(`| tally import claude-code (bun) | ${seconds(first.ms)} s | ${mbps(firstSummary.bytesRead, first.ms)} |`);
if (firstNode) out(`| tally import claude-code (node, dist/) | ${seconds(firstNode.ms)} s | ${mbps(firstSummary.bytesRead, firstNode.ms)} |`);
if (cc18) out(`| ccusage 18 daily --offline --json | ${seconds(cc18.ms)} s | ${mbps(corpus.bytes, cc18.ms)} |`);
if (cc20) out(`| ccusage 20.0.24 (native) daily --offline --json | ${seconds(cc20.ms)} s | ${mbps(corpus.bytes, cc20.ms)} |`);
out();
out(`Tally's first import: ${firstSummary.imported} executions, ${firstSummary.linesRead} lines; database ${dbMiB} MiB. ${cc18 ? `vs ccusage 18: ${(cc18.ms / first.ms).toFixed(1)}× faster` : ""}${cc20 ? `; vs ccusage 20: ${(first.ms / cc20.ms).toFixed(2)}× its time` : ""}.`);
out();
out("| later run, after +1 % | time | vs ccusage 18 | vs ccusage 20 |");
out("| --- | ---: | ---: | ---: |");
const vs = (ms: number) => `${cc18Later ? `${(cc18Later.ms / ms).toFixed(0)}× faster` : "n/a"} | ${cc20Later ? `${(cc20Later.ms / ms).toFixed(1)}× faster` : "n/a"}`;
out(`| tally import (reads ${incSummary.bytesRead} bytes, ${incSummary.linesRead} lines, +${incSummary.imported} executions) | ${seconds(incImport.ms)} s | ${vs(incImport.ms)} |`);
out(`| tally report --by day --json | ${seconds(incReport.ms)} s | | |`);
out(`| tally import && tally report --by day (two processes) | ${seconds(incBoth.ms)} s | ${vs(incBoth.ms)} |`);
out(`| same, in-process (no runtime start-up) | ${seconds(incInProcess)} s | ${vs(incInProcess)} |`);
if (cc18Later) out(`| ccusage 18 daily (re-reads everything) | ${seconds(cc18Later.ms)} s | | |`);
if (cc20Later) out(`| ccusage 20.0.24 daily (re-reads everything) | ${seconds(cc20Later.ms)} s | | |`);
out();
out(`Per-day token totals (input, output, cache read, cache creation), Tally vs ccusage 18: first ${firstVs18}; after the append ${laterVs18}.`);
out(`Tally vs ccusage 20.0.24: first ${firstVs20}; after the append ${laterVs20}.`);
out(`Generated corpus ${(grownBytes / 2 ** 20).toFixed(1)} MiB in ${workDir}.`);
console.log(lines.join("\n"));

if (process.env.IMPORT_BENCH_DIR === undefined) rmSync(workDir, { recursive: true, force: true });
