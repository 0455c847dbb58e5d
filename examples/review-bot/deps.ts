import type { Logger, Telemetry } from "../../src/index.ts";
import type { Executor } from "./agent/executor.ts";
import type { GitHubApi } from "./github/api.ts";
import type { Publisher } from "./github/publisher.ts";
import type { BackoffOptions } from "./github/search-with-backoff.ts";

/** What the handlers need, passed in so tests can swap any of it. */
export interface HandlerDeps {
  telemetry: Telemetry;
  executor: Executor;
  github: GitHubApi;
  publisher: Publisher;
  logger: Logger;
  /** The model runs are configured with (recorded when a run fails before the SDK names one). */
  model: string;
  backoff?: BackoffOptions;
}
