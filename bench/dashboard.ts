/**
 * The dashboard on a large database: shipped assets (gzip and brotli), from navigation to every
 * chart drawn per view and range in headless Chromium, and the read API's latency for the
 * requests each view makes (recorded from the page, then replayed). Run:
 *   bun bench/dashboard.ts            (ROWS=10000000 runs by default; the database is generated
 *                                      once into $BENCH_DB, default /tmp/tally-bench-dashboard-<ROWS>.db, and reused)
 * Also ROUNDS (default 5 page loads), API_ROUNDS (default 20 replays per view), VIEWS (comma-separated), TALLY_CHROMIUM.
 */
import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { chromium, type Browser } from "playwright-core";
import type { StoredRecord } from "../src/core/rows.ts";
import { buildDashboardAssets } from "../src/server/dashboard/build.ts";
import { startServer } from "../src/server/start.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { startReportWorkers } from "../src/store/sqlite/report-workers.ts";
import { silentLogger } from "../src/core/logger.ts";
import { machineInfo, machineLine, percentile, sortedCopy, writeResults } from "./lib.ts";

const ROWS = Number(process.env.ROWS ?? 10_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const API_ROUNDS = Number(process.env.API_ROUNDS ?? 20);
const DB = process.env.BENCH_DB ?? `/tmp/tally-bench-dashboard-${ROWS}.db`;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12);
const SPAN_DAYS = 100;

/** Runs as bench/report.ts makes them, plus per 5 runs one tool call, per 50 a degradation, per 10 a cache lookup. */
function generate(): void {
  const store = openSqliteStore({ path: DB, retentionDays: 0, checkpointEveryRows: 100_000 });
  const repos = Array.from({ length: 50 }, (_, i) => `acme/service-${i}`);
  const models = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"];
  const events = ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"];
  const conclusions = ["success", "success", "success", "success", "failure", "error"];
  const tools = ["search_code", "get_file", "list_commits", "create_review_comment", "get_diff", "list_files"];
  const outcomes = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "tool_error", "ok", "ok", "protocol_error", "ok", "ok", "ok", "ok", "cancelled"] as const;
  const resources = ["search", "graphql", "core"];
  const caches = ["pr-diffs", "file-contents", "embeddings"];
  const start = NOW - SPAN_DAYS * DAY;
  const step = (SPAN_DAYS * DAY) / ROWS;
  const batchSize = 5000;
  const began = performance.now();
  for (let i = 0; i < ROWS; i += batchSize) {
    const batch: StoredRecord[] = [];
    for (let j = i; j < Math.min(ROWS, i + batchSize); j++) {
      const createdAt = Math.floor(start + j * step);
      const repo = repos[j % 50]!;
      const eventType = events[j % 3]!;
      batch.push({
        kind: "execution",
        row: {
          id: `bench-${j}`, createdAt, deliveryId: `d-${j}`, repo, prNumber: (j % 500) + 1,
          eventType, provider: "anthropic", model: models[(j >> 3) % 5]!, inputTokens: 1000 + (j % 5000),
          outputTokens: 200 + (j % 800), cacheReadTokens: j % 20_000, cacheCreationTokens: j % 300, durationMs: 5000 + ((j * 7919) % 120_000),
          costUsd: 0.001 * (1 + (j % 50)), costSource: "reported", conclusion: conclusions[j % 6]!, sessionId: null, numTurns: 3,
          stopReason: "end_turn", attributes: null,
        },
      });
      if (j % 5 === 0) {
        batch.push({
          kind: "toolCall",
          row: {
            id: `bench-tool-${j}`, createdAt: createdAt - 1000, sessionId: null, executionId: `bench-${j}`, server: j % 4 === 0 ? "github-write" : "github",
            toolName: tools[(j >> 2) % tools.length]!, durationMs: 50 + ((j * 104729) % 3000), outcome: outcomes[(j >> 1) % outcomes.length]!,
            errorType: null, inputBytes: 100, outputBytes: 2000, attributes: null,
          },
        });
      }
      if (j % 50 === 0) {
        batch.push({
          kind: "rateLimitEvent",
          row: {
            id: `bench-limit-${j}`, createdAt, deliveryId: `d-${j}`, eventType, repo, prNumber: (j % 500) + 1, executionId: `bench-${j}`,
            resource: resources[(j >> 1) % 3]!, limit: 5000, remaining: 0, resetAt: null, retryAttempts: 1 + (j % 4), skippedQueries: j % 3,
            degradation: j % 7 === 0 ? "skipped" : "partial", attributes: null,
          },
        });
      }
      if (j % 10 === 0) {
        batch.push({ kind: "cacheEvent", row: { id: `bench-cache-${j}`, createdAt, cache: caches[(j >> 1) % 3]!, outcome: j % 30 < 21 ? "hit" : "miss", deliveryId: `d-${j}`, eventType, repo } });
      }
    }
    const result = store.write(batch);
    if (!result.ok) throw new Error(`generation failed: ${result.failure}`);
    if (i % 500_000 === 0) process.stderr.write(`\rgenerating ${((i / ROWS) * 100).toFixed(0)}%`);
  }
  store.checkpoint();
  store.close();
  process.stderr.write(`\rgenerated ${ROWS} runs (+${ROWS / 5} tool calls, ${ROWS / 50} degradations, ${ROWS / 10} cache lookups) in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
}

const VIEWS = (process.env.VIEWS ?? "overview,runs,tools,degradations").split(",");
const RANGES: [string, number][] = [["24h", DAY], ["7d", 7 * DAY], ["30d", 30 * DAY], ["90d", 90 * DAY]];

interface ViewResult {
  view: string;
  range: string;
  charts: number;
  /** From navigation start to every chart drawn: the first (cold, assets fetched) load and the median of the rest. */
  coldMs: number;
  warmMedianMs: number;
  warmMaxMs: number;
  /** The view's API requests replayed together, as the page sends them; the slowest of them timed alone. */
  api: { requests: number; p50Ms: number; p95Ms: number; slowest: { path: string; p95Ms: number } };
}

async function measureView(browser: Browser, base: string, view: string, rangeMs: number): Promise<Omit<ViewResult, "view" | "range">> {
  const search = `?view=${view}&range=custom&since=${new Date(NOW - rangeMs).toISOString()}&until=${new Date(NOW).toISOString()}&tz=UTC&refresh=0`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "UTC" });
  const times: number[] = [];
  let apiPaths: string[] = [];
  let charts = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(`${view}: page error: ${e.message}`));
    const requested: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/")) requested.push(r.url().slice(base.length));
    });
    await page.goto(`${base}/${search}`);
    await page.waitForFunction(
      () => {
        const { document } = globalThis as any;
        const section = document.querySelector('main > section[aria-busy="false"]');
        if (section === null) return false;
        const plots = [...document.querySelectorAll(".plot")];
        return plots.every((p: any) => p.querySelector("canvas") !== null);
      },
      undefined,
      { timeout: 60_000, polling: 10 },
    );
    times.push((await page.evaluate(() => performance.now())) as number);
    charts = await page.locator(".plot canvas").count();
    apiPaths = requested;
    await page.close();
  }
  await context.close();
  const warm = sortedCopy(times.slice(1));
  // Replay the view's requests together, as the page sends them (the server answers reads one at a time).
  const totals: number[] = [];
  for (let round = 0; round < API_ROUNDS; round++) {
    const t0 = performance.now();
    await Promise.all(apiPaths.map((path) => timedGet(base, path)));
    totals.push(performance.now() - t0);
  }
  const sortedTotals = sortedCopy(totals);
  // And each alone, to name the one that costs most.
  let slowest = { path: "", p95Ms: 0 };
  for (const path of apiPaths) {
    const alone: number[] = [];
    for (let round = 0; round < API_ROUNDS; round++) alone.push(await timedGet(base, path));
    const p95 = percentile(sortedCopy(alone), 95);
    if (p95 > slowest.p95Ms) slowest = { path: decodeURIComponent(path), p95Ms: round1(p95) };
  }
  return {
    charts,
    coldMs: round1(times[0]!),
    warmMedianMs: round1(percentile(warm, 50)),
    warmMaxMs: round1(warm[warm.length - 1]!),
    api: { requests: apiPaths.length, p50Ms: round1(percentile(sortedTotals, 50)), p95Ms: round1(percentile(sortedTotals, 95)), slowest },
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

async function timedGet(base: string, path: string): Promise<number> {
  const t = performance.now();
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  await response.arrayBuffer();
  return performance.now() - t;
}

if (!existsSync(DB)) generate();
const assets = await buildDashboardAssets();
const assetSizes = assets.map((a) => ({ path: a.path, bytes: a.body.length, gzip: a.gzip.length, brotli: a.brotli.length }));
const gzipTotal = assetSizes.reduce((s, a) => s + a.gzip, 0);
const brotliTotal = assetSizes.reduce((s, a) => s + a.brotli, 0);
console.log(machineLine(machineInfo()));
console.log(`assets: ${assetSizes.map((a) => `${a.path} ${(a.bytes / 1024).toFixed(1)} KB (gzip ${(a.gzip / 1024).toFixed(1)} KB)`).join(", ")}`);
console.log(`shipped assets: gzip ${(gzipTotal / 1024).toFixed(1)} KB, brotli ${(brotliTotal / 1024).toFixed(1)} KB (goal < 150 KB gzipped)`);
console.log(`database: ${DB} (${(statSync(DB).size / 2 ** 30).toFixed(2)} GiB, ${ROWS} runs over ${SPAN_DAYS} days)`);

const store = openSqliteStore({ path: DB, retentionDays: 0 });
// As `tally serve` runs: reports on worker threads (REPORT_WORKERS, default one per core, at most 4; 0: the server's thread).
const REPORT_WORKERS = Number(process.env.REPORT_WORKERS ?? Math.min(4, availableParallelism()));
const reports = REPORT_WORKERS > 0 ? startReportWorkers({ path: DB, driver: store.driverName, workers: REPORT_WORKERS, logger: silentLogger }) : null;
console.log(`report workers: ${reports === null ? 0 : REPORT_WORKERS}`);
const server = await startServer({ store, reports: reports ?? undefined, port: 0, now: () => NOW });
const browser = await chromium.launch({ executablePath: process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const results: ViewResult[] = [];
try {
  for (const view of VIEWS) {
    for (const [range, ms] of RANGES) {
      const result = { view, range, ...(await measureView(browser, server.url, view, ms)) };
      results.push(result);
      console.log(
        `${view.padEnd(12)} ${range.padEnd(4)} charts ${result.charts}  navigation→charts drawn: cold ${result.coldMs} ms, warm median ${result.warmMedianMs} ms (max ${result.warmMaxMs})` +
          `  API (${result.api.requests} requests together): p50 ${result.api.p50Ms} ms, p95 ${result.api.p95Ms} ms; slowest alone p95 ${result.api.slowest.p95Ms} ms ${result.api.slowest.path.replace(/since=[^&]*&until=[^&]*&?/, "").slice(0, 110)}`,
      );
    }
  }
} finally {
  await browser.close();
  await server.close();
  reports?.close();
  store.close();
}
console.log(`results: ${writeResults("dashboard", { machine: machineInfo(), rows: ROWS, db: DB, assets: assetSizes, gzipTotal, brotliTotal, rounds: ROUNDS, apiRounds: API_ROUNDS, results })}`);
