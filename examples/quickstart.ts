/**
 * Records a few days of demo agent runs into ./data/tally.db and prints what they cost.
 * Run: `npx bun examples/quickstart.ts` (or `node` on the built package, see README).
 */
import { Database } from "bun:sqlite";
import { createTelemetry } from "../src/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const path = process.env.TALLY_DB ?? "./data/tally.db";
const store = openSqliteStore({ path });
const telemetry = createTelemetry({ store, logger: console });

const repos = ["acme/api", "acme/web", "acme/infra"];
const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
const conclusions = ["success", "success", "success", "failure", "error"];
const day = 86_400_000;
for (let i = 0; i < 300; i++) {
  const createdAt = Date.now() - Math.floor((i / 300) * 7 * day);
  const deliveryId = `demo-delivery-${i}`;
  telemetry.recordExecution({
    id: `demo-execution-${i}`, // fixed ids: running the demo twice does not count twice
    createdAt,
    deliveryId,
    repo: repos[i % repos.length]!,
    eventType: i % 4 === 0 ? "issue_comment.created" : "pull_request.opened",
    prNumber: 100 + (i % 40),
    model: models[i % models.length]!,
    conclusion: conclusions[i % conclusions.length]!,
    inputTokens: 2000 + ((i * 37) % 5000),
    outputTokens: 300 + ((i * 11) % 900),
    cacheReadTokens: (i * 53) % 20_000,
    durationMs: 15_000 + ((i * 101) % 60_000),
    // no costUsd: Tally prices the tokens with @pydantic/genai-prices
  });
  telemetry.recordToolCall({ id: `demo-tool-${i}`, createdAt, toolName: i % 2 ? "search_code" : "get_file", server: "github", outcome: i % 9 ? "ok" : "tool_error", durationMs: 40 + (i % 200) });
  if (i % 10 === 0) {
    telemetry.recordRateLimitEvent({ createdAt, deliveryId, eventType: "pull_request.opened", repo: repos[i % repos.length]!, resource: "search", retryAttempts: 3, skippedQueries: 2, degradation: "partial" });
  }
  telemetry.recordCacheEvent({ id: `demo-cache-${i}`, createdAt, cache: "search", outcome: i % 3 ? "hit" : "miss" });
}
await telemetry.shutdown();

const db = new Database(path, { readonly: true });
const rows = db
  .query(`SELECT repo, model, sum(runs) AS runs, sum(input_tokens) AS input, sum(output_tokens) AS output,
            round(sum(cost_usd), 4) AS cost_usd, sum(unpriced_runs) AS unpriced
          FROM daily_usage GROUP BY repo, model ORDER BY cost_usd DESC`)
  .all();
console.table(rows);
console.log(`Recorded into ${path}. Look around: sqlite3 ${path} "SELECT * FROM executions_v LIMIT 5"`);
db.close();
