import type { Logger, Telemetry } from "../../src/index.ts";
import { createExecutor, type AgentSession } from "./agent/executor.ts";
import { replaySession } from "./agent/replay-session.ts";
import { DeliveryLog } from "./deliveries.ts";
import type { HandlerDeps } from "./deps.ts";
import { failOpen } from "./fail-open.ts";
import type { GitHubApi } from "./github/api.ts";
import { offlineGitHubApi } from "./github/offline-api.ts";
import { printingPublisher, type Publisher } from "./github/publisher.ts";
import type { BackoffOptions } from "./github/search-with-backoff.ts";
import { RepoQueue } from "./queue.ts";
import { route } from "./router.ts";
import { createServer } from "./server.ts";
import { silentLogger } from "./logger.ts";

/** Options of {@link createReviewBot}; everything but the secret and telemetry has an offline default. */
export interface ReviewBotOptions {
  /** The webhook secret configured on GitHub. */
  secret: string;
  telemetry: Telemetry;
  /** Where agent messages come from. @default a recorded session, replayed */
  session?: AgentSession;
  /** @default canned search results */
  github?: GitHubApi;
  /** @default prints what it would post */
  publisher?: Publisher;
  /** @default silent */
  logger?: Logger;
  /** @default "claude-sonnet-4-5" */
  model?: string;
  /** The login comments mention. @default "tally-bot" */
  botLogin?: string;
  backoff?: BackoffOptions;
}

/** The assembled bot: the Hono app to serve, and its queue (`idle()` tells when work is done). */
export interface ReviewBot {
  app: ReturnType<typeof createServer>;
  queue: RepoQueue;
}

/** Wires the server, queue, handlers and executor together. Reads no environment: main.ts does. */
export function createReviewBot(options: ReviewBotOptions): ReviewBot {
  const logger = options.logger ?? silentLogger;
  const telemetry = failOpen(options.telemetry, logger);
  const deps: HandlerDeps = {
    telemetry,
    executor: createExecutor(options.session ?? replaySession(), telemetry),
    github: options.github ?? offlineGitHubApi(),
    publisher: options.publisher ?? printingPublisher(),
    logger,
    model: options.model ?? "claude-sonnet-4-5",
    backoff: options.backoff,
  };
  const botLogin = options.botLogin ?? "tally-bot";
  const queue = new RepoQueue(logger);
  const app = createServer({
    secret: options.secret,
    queue,
    deliveries: new DeliveryLog(),
    route: (context, payload) => route(deps, context, payload, botLogin),
    logger,
  });
  return { app, queue };
}
