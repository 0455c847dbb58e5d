/**
 * What a change to the rollups costs the write path: the same executions written through
 * `store.write()` (every rollup the store keeps, its checkpoints) by this tree and by another
 * checkout of Tally (BASE, default /tmp/base9), interleaved round by round in one process,
 * fresh files each time; median records/s of the rounds. Used to measure the hourly rollups
 * of the reports issue (BENCHMARKS.md, "Hourly rollups: measured, not kept").
 *
 *   git worktree add /tmp/base9 <commit> && ln -s $PWD/node_modules /tmp/base9/node_modules
 *   bun bench/rollup-write-cost.ts            # WC_N=200000 WC_ROUNDS=5 WC_BATCH=50
 *   WC_MIX=dashboard bun bench/rollup-write-cost.ts   # also, as bench/dashboard.ts writes them: per 5 runs
 *                                                     # a tool call in a session, per 50 a degraded run, per 10 a cache lookup
 */
import { join } from "node:path";
import type { StoredRecord } from "../src/core/rows.ts";
import { openSqliteStore as openHere } from "../src/store/sqlite/index.ts";
import { envInt, machineInfo, machineLine, median, tempDir } from "./lib.ts";

const BASE = process.env.BASE ?? "/tmp/base9";
const N = envInt("WC_N", 200_000);
const ROUNDS = envInt("WC_ROUNDS", 5);
const BATCH = envInt("WC_BATCH", 50);
/** Distinct repos and models: 50 × 5 is report.ts's worst case for rollup size; 5 × 3 is a team's. */
const REPOS = envInt("WC_REPOS", 50);
const MODELS = envInt("WC_MODELS", 5);
const MIX = process.env.WC_MIX === "dashboard";
const { openSqliteStore: openBase } = (await import(join(BASE, "src/store/sqlite/index.ts"))) as { openSqliteStore: typeof openHere };

/** Executions spread over 30 days (as a service writes them: time moves forward), REPOS × MODELS × 3 events × 3 conclusions. */
function batches(): StoredRecord[][] {
  const out: StoredRecord[][] = [];
  const start = Date.UTC(2026, 9, 1);
  const step = (30 * 86_400_000) / N;
  for (let i = 0; i < N; i += BATCH) {
    const batch: StoredRecord[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      batch.push({ kind: "execution", row: {
        id: `wc-${j}`, createdAt: Math.floor(start + j * step), deliveryId: null, repo: `acme/service-${j % REPOS}`, prNumber: null,
        eventType: ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"][j % 3]!, provider: "anthropic",
        model: `claude-model-${(j >> 3) % MODELS}`, inputTokens: 1000 + (j % 5000), outputTokens: 200 + (j % 800), cacheReadTokens: j % 20_000,
        cacheCreationTokens: j % 300, durationMs: 5000 + ((j * 7919) % 120_000), costUsd: 0.001 * (1 + (j % 50)), costSource: "reported",
        conclusion: ["success", "success", "failure", "error"][j % 4]!, sessionId: null, numTurns: 3, stopReason: "end_turn", attributes: null,
      } });
      const createdAt = Math.floor(start + j * step);
      if (MIX && j % 5 === 0) {
        batch.push({ kind: "toolCall", row: {
          id: `wc-tool-${j}`, createdAt, sessionId: `session-${j >> 6}`, executionId: `wc-${j}`, server: "github", toolName: `tool-${(j >> 2) % 6}`,
          durationMs: 50 + ((j * 104729) % 3000), outcome: j % 17 === 0 ? "tool_error" : "ok", errorType: null, inputBytes: 100, outputBytes: 2000, attributes: null,
        } });
      }
      if (MIX && j % 50 === 0) {
        batch.push({ kind: "rateLimitEvent", row: {
          id: `wc-limit-${j}`, createdAt, deliveryId: `d-${j}`, eventType: "pull_request.opened", repo: `acme/service-${j % REPOS}`, prNumber: null,
          executionId: `wc-${j}`, resource: ["search", "graphql", "core"][(j >> 1) % 3]!, limit: 5000, remaining: 0, resetAt: null,
          retryAttempts: 1 + (j % 4), skippedQueries: j % 3, degradation: j % 7 === 0 ? "skipped" : "partial", attributes: null,
        } });
      }
      if (MIX && j % 10 === 0) {
        batch.push({ kind: "cacheEvent", row: {
          id: `wc-cache-${j}`, createdAt, cache: ["pr-diffs", "file-contents", "embeddings"][(j >> 1) % 3]!, outcome: j % 30 < 21 ? "hit" : "miss",
          deliveryId: `d-${j}`, eventType: "pull_request.opened", repo: `acme/service-${j % REPOS}`,
        } });
      }
    }
    out.push(batch);
  }
  return out;
}

const scratch = tempDir("write-cost");

function timeWrites(open: typeof openHere, data: StoredRecord[][]): number {
  const path = join(scratch.dir, `wc-${Math.random().toString(36).slice(2)}.db`);
  const store = open({ path, retentionDays: 0, checkpointInBackground: true });
  const started = performance.now();
  for (const batch of data) {
    const result = store.write(batch);
    if (!result.ok) throw result.error;
  }
  const ms = performance.now() - started;
  store.close();
  return N / (ms / 1000);
}

const data = batches();
const here: number[] = [];
const base: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always meets a warmer page cache.
  if (round % 2 === 0) {
    base.push(timeWrites(openBase, data));
    here.push(timeWrites(openHere, data));
  } else {
    here.push(timeWrites(openHere, data));
    base.push(timeWrites(openBase, data));
  }
  console.error(`round ${round + 1}: base ${Math.round(base[round]!)} rec/s, here ${Math.round(here[round]!)} rec/s`);
}
const b = median(base);
const h = median(here);
scratch.cleanup();
console.log(machineLine(machineInfo()));
console.log(`store.write(), ${N} executions${MIX ? " (with the dashboard mix of tool calls, degraded runs and cache lookups: rates count executions)" : ""} over 30 days (${REPOS} repos × ${MODELS} models) in batches of ${BATCH}, median of ${ROUNDS} interleaved rounds:`);
console.log(`| base (${BASE}) | ${Math.round(b).toLocaleString("en-US")} records/s |`);
console.log(`| this tree | ${Math.round(h).toLocaleString("en-US")} records/s |`);
console.log(`this tree / base = ${(h / b).toFixed(3)}`);
