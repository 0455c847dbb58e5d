/**
 * The review bot, runnable from a checkout: `bun examples/review-bot/main.ts`.
 * Environment is read here and nowhere else.
 */
import { createTelemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { liveSession } from "./agent/live-session.ts";
import { replaySession } from "./agent/replay-session.ts";
import { createReviewBot } from "./bot.ts";
import { jsonLogger } from "./logger.ts";

const logger = jsonLogger();
const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  logger.error({}, "review-bot: set WEBHOOK_SECRET (the secret configured on the GitHub webhook)");
  process.exit(1);
}

// retentionDays makes the store purge at open and daily after; the explicit pass and the
// checkpoint below are the start-up guarantee, and cheap when there is nothing left to do.
const store = openSqliteStore({ path: process.env.TELEMETRY_DB_PATH ?? "./data/tally.db", retentionDays: 90, logger });
const purged = store.purgeOlderThan(90);
store.checkpoint();
logger.info({ path: store.path, purged }, "review-bot: telemetry store open");
const telemetry = createTelemetry({ store, logger });

const live = Boolean(process.env.ANTHROPIC_API_KEY);
const bot = createReviewBot({
  secret,
  telemetry,
  logger,
  // REPLAY_RESULT_DELAY_MS: a replayed review waits this long for its result (a slow model, for trying the drain).
  session: live ? liveSession() : replaySession(undefined, { resultDelayMs: Number(process.env.REPLAY_RESULT_DELAY_MS ?? 0) }),
  model: process.env.REVIEW_MODEL ?? "claude-sonnet-4-5",
  botLogin: process.env.BOT_LOGIN ?? "tally-bot",
});

const server = Bun.serve({
  fetch: bot.app.fetch,
  hostname: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 3000),
});
logger.info({ url: `http://${server.hostname}:${server.port}/webhooks`, mode: live ? "live" : "replay" }, "review-bot: listening");

/** How long SIGTERM waits for reviews in flight (DRAIN_TIMEOUT_MS). */
const drainTimeoutMs = Number(process.env.DRAIN_TIMEOUT_MS ?? 30_000);
let stopping = false;
async function drain(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, pending: bot.queue.pending }, "review-bot: draining");
  await server.stop();
  // Reviews in flight finish (a bounded wait), then everything recorded is written.
  await Promise.race([bot.queue.idle(), new Promise((resolve) => setTimeout(resolve, drainTimeoutMs))]);
  // A review still running now is recorded by shutdown() as a cancelled run with the tokens seen so far.
  await telemetry.shutdown({ timeoutMs: 5_000 });
  logger.info({ stats: telemetry.stats() }, "review-bot: stopped");
  process.exit(0);
}
process.on("SIGINT", () => void drain("SIGINT"));
process.on("SIGTERM", () => void drain("SIGTERM"));
