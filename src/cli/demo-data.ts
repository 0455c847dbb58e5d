/**
 * Demo data for `tally serve --demo`: three days of a review bot and an MCP server at work
 * (runs on several repos and models, tool calls in sessions, rate-limit degradations, cache
 * lookups), then a run every few seconds, so a newcomer sees every view filled and moving.
 * Ids derive from the time slot, so starting the demo again adds only the hours since.
 */
import { HOUR_MS } from "../core/time-units.ts";
import type { Telemetry } from "../core/telemetry.ts";

const REPOS = ["acme/api", "acme/web", "acme/infra", "acme/mobile"];
const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
const EVENTS = ["pull_request.opened", "pull_request.synchronize", "issue_comment.created"];
const TOOLS = ["search_code", "get_file", "list_commits", "create_review_comment"];

/** A small deterministic generator, so the demo looks the same for everyone. */
function noise(seed: number): number {
  let x = (seed ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

/** Records one demo run (with its session, tool calls and maybe a degradation) at `at`. */
export function recordDemoRun(telemetry: Telemetry, at: number, key: string, seed: number): void {
  const r = (k: number) => noise(seed * 31 + k);
  const repo = REPOS[Math.floor(r(1) * REPOS.length)]!;
  const model = MODELS[r(2) < 0.6 ? 0 : r(2) < 0.9 ? 1 : 2]!;
  const eventType = EVENTS[Math.floor(r(3) * EVENTS.length)]!;
  const deliveryId = `demo-${key}`;
  const sessionId = `demo-session-${key}`;
  const failed = r(4) < 0.08;
  const durationMs = Math.round(8_000 + r(5) * 70_000);
  const startedAt = at - durationMs;
  telemetry.startSession(sessionId, { source: "mcp", client: { name: "review-bot", version: "1.4.0" }, startedAt });
  const calls = 1 + Math.floor(r(6) * 6);
  for (let c = 0; c < calls; c++) {
    const toolName = TOOLS[Math.floor(r(10 + c) * TOOLS.length)]!;
    telemetry.recordToolCall({
      id: `demo-tool-${key}-${c}`,
      createdAt: startedAt + Math.round(((c + 1) * durationMs) / (calls + 2)),
      toolName,
      server: toolName === "create_review_comment" ? "github-write" : "github",
      sessionId,
      executionId: `demo-run-${key}`,
      durationMs: Math.round(30 + r(20 + c) * (toolName === "search_code" ? 900 : 250)),
      outcome: r(30 + c) < 0.06 ? "tool_error" : "ok",
    });
  }
  const degraded = r(7) < 0.12;
  if (degraded) {
    telemetry.recordRateLimitEvent({ createdAt: at - 1000, deliveryId, eventType, repo, resource: r(8) < 0.7 ? "search" : "graphql", retryAttempts: 1 + Math.floor(r(9) * 3), skippedQueries: Math.floor(r(11) * 4), degradation: r(12) < 0.8 ? "partial" : "skipped", executionId: `demo-run-${key}` });
  }
  telemetry.recordCacheEvent({ id: `demo-cache-${key}`, createdAt: startedAt + 50, cache: "pr-diffs", outcome: r(13) < 0.7 ? "hit" : "miss", deliveryId, eventType, repo });
  telemetry.recordExecution({
    id: `demo-run-${key}`,
    createdAt: at,
    deliveryId,
    repo,
    eventType,
    prNumber: 100 + Math.floor(r(14) * 80),
    model,
    conclusion: failed ? (r(15) < 0.5 ? "failure" : "error") : "success",
    inputTokens: Math.round(1_500 + r(16) * 8_000),
    outputTokens: Math.round(200 + r(17) * 2_000),
    cacheReadTokens: Math.round(r(18) * 30_000),
    cacheCreationTokens: r(19) < 0.3 ? Math.round(r(21) * 5_000) : 0,
    durationMs,
    sessionId,
    numTurns: 1 + Math.floor(r(22) * 12),
    stopReason: "end_turn",
  });
  telemetry.endSession(sessionId, { endedAt: at + 500 });
}

/** Records the demo's history: `hours` hours before `now`, busier in working hours. */
export function recordDemoHistory(telemetry: Telemetry, now: number, hours = 72): number {
  let runs = 0;
  const firstHour = Math.floor(now / HOUR_MS) * HOUR_MS - hours * HOUR_MS;
  for (let hour = firstHour; hour < now; hour += HOUR_MS) {
    const utcHour = new Date(hour).getUTCHours();
    const perHour = utcHour >= 7 && utcHour <= 19 ? 14 : 4;
    for (let k = 0; k < perHour; k++) {
      const at = hour + Math.floor(((k + noise(hour / HOUR_MS + k)) * HOUR_MS) / perHour);
      if (at >= now) break;
      recordDemoRun(telemetry, at, `${hour}-${k}`, hour / HOUR_MS + k * 977);
      runs++;
    }
  }
  return runs;
}
