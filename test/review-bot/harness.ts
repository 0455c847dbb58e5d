import { Database } from "bun:sqlite";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createTelemetry, type Store, type Telemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import type { AgentSession } from "../../examples/review-bot/agent/executor.ts";
import { createReviewBot } from "../../examples/review-bot/bot.ts";
import type { GitHubApi } from "../../examples/review-bot/github/api.ts";
import type { Publication, Publisher } from "../../examples/review-bot/github/publisher.ts";
import type { Logger } from "../../src/index.ts";
import { tempDir } from "../support/temp-dir.ts";

export const SECRET = "test-webhook-secret";

/** Collects publications instead of posting them. */
export function collectingPublisher(): Publisher & { published: Publication[] } {
  const published: Publication[] = [];
  return {
    published,
    async publish(publication) {
      published.push(publication);
    },
  };
}

/** Delegates to `telemetry` and counts each call, to tell what the bot emitted from what the store kept. */
function countingTelemetry(telemetry: Telemetry) {
  const calls = { recordExecution: 0, recordRateLimitEvent: 0 };
  const counted: Telemetry = {
    ...telemetry,
    recordExecution(record) {
      calls.recordExecution++;
      telemetry.recordExecution(record);
    },
    recordRateLimitEvent(record) {
      calls.recordRateLimitEvent++;
      telemetry.recordRateLimitEvent(record);
    },
    recordToolCall: (record) => telemetry.recordToolCall(record),
    recordCacheEvent: (record) => telemetry.recordCacheEvent(record),
    startSession: (id, options) => telemetry.startSession(id, options),
    endSession: (id) => telemetry.endSession(id),
    flush: () => telemetry.flush(),
    shutdown: (options) => telemetry.shutdown(options),
    stats: () => telemetry.stats(),
  };
  return { counted, calls };
}

/** Logged lines, for asserting that failures were reported. */
export function collectingLogger(): Logger & { lines: Array<{ level: string; msg?: string; obj: object }> } {
  const lines: Array<{ level: string; msg?: string; obj: object }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, obj });
  return { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

export interface BotOptions {
  session?: AgentSession;
  github?: GitHubApi;
  /** Replaces the SQLite store (e.g. one that throws). */
  store?: Store;
}

type Row = Record<string, unknown>;

/**
 * The bot as main.ts assembles it, on a real SQLite file, served over HTTP on a loopback port
 * chosen by the OS. Backoff waits are recorded, not slept.
 */
export function startBot(options: BotOptions = {}) {
  const path = join(tempDir(), "data", "tally.db");
  const store = options.store ?? openSqliteStore({ path });
  const logger = collectingLogger();
  const { counted, calls } = countingTelemetry(createTelemetry({ store, logger, flushOnExit: false, batchSize: 1 }));
  const publisher = collectingPublisher();
  const sleeps: number[] = [];
  const bot = createReviewBot({
    secret: SECRET,
    telemetry: counted,
    session: options.session,
    github: options.github,
    publisher,
    logger,
    model: "claude-sonnet-4-5",
    backoff: { baseDelayMs: 10, sleep: async (ms) => void sleeps.push(ms) },
  });
  const server = Bun.serve({ fetch: bot.app.fetch, hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${server.port}/webhooks`;

  return {
    url,
    published: publisher.published,
    calls,
    sleeps,
    logger,
    /** Signs `payload` (unless told otherwise) and posts it as GitHub does. */
    async send(event: string, payload: unknown, delivery: { id?: string; secret?: string; signature?: string | null } = {}): Promise<Response> {
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery.id ?? crypto.randomUUID(),
      };
      const signature = delivery.signature === undefined ? await sign(delivery.secret ?? SECRET, body) : delivery.signature;
      if (signature !== null) headers["x-hub-signature-256"] = signature;
      return fetch(url, { method: "POST", headers, body });
    },
    /** Waits until every queued job has finished and everything recorded is written. */
    async settled(): Promise<void> {
      await bot.queue.idle();
      await counted.flush();
    },
    /** Rows as the bot wrote them, read through a separate connection. */
    rows(table: "executions" | "rate_limit_events"): Row[] {
      const db = new Database(path, { readonly: true });
      try {
        return db.query(`SELECT * FROM ${table} ORDER BY rowid`).all() as Row[];
      } finally {
        db.close();
      }
    },
    async close(): Promise<void> {
      await server.stop(true);
      await counted.shutdown({ timeoutMs: 1_000 });
    },
  };
}

export type Bot = ReturnType<typeof startBot>;
