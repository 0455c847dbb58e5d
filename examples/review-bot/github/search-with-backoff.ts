import type { Logger } from "../../../src/index.ts";
import { isRateLimited, type GitHubApi, type SearchItem } from "./api.ts";

/** Options of {@link searchWithBackoff}. */
export interface BackoffOptions {
  /** Retries per run after a rate-limited search, all queries together. @default 3 */
  maxRetries?: number;
  /** First delay; doubles per retry. @default 500 */
  baseDelayMs?: number;
  /** How to wait; tests pass one that does not. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** What enrichment ended with. `degradation` is `none` when every query ran. */
export interface Enrichment {
  items: SearchItem[];
  degradation: "none" | "partial" | "skipped";
  /** True when a rate limit outlasted the retries (and so caused the degradation). */
  rateLimited: boolean;
  retryAttempts: number;
  skippedQueries: number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs the searches in order. A rate-limited search is retried with exponential backoff from a
 * budget shared by the whole run; once the budget is spent, that query and every later one are
 * skipped (hammering a limited API only extends the limit). Another failure skips just its query.
 * Never throws: the review goes on with whatever was found.
 */
export async function searchWithBackoff(api: GitHubApi, queries: readonly string[], logger: Logger, options: BackoffOptions = {}): Promise<Enrichment> {
  const maxRetries = options.maxRetries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const sleep = options.sleep ?? wait;
  const items: SearchItem[] = [];
  let retryAttempts = 0;
  let skippedQueries = 0;
  let rateLimited = false;

  for (let index = 0; index < queries.length && !rateLimited; index++) {
    for (;;) {
      try {
        items.push(...(await api.searchIssues(queries[index]!)));
        break;
      } catch (error) {
        if (isRateLimited(error) && retryAttempts < maxRetries) {
          await sleep(baseDelayMs * 2 ** retryAttempts);
          retryAttempts++;
          continue;
        }
        if (isRateLimited(error)) {
          rateLimited = true;
          skippedQueries += queries.length - index;
        } else {
          logger.warn({ error: String(error) }, "review-bot: a search failed; skipping it");
          skippedQueries++;
        }
        break;
      }
    }
  }
  const degradation = skippedQueries === 0 ? "none" : skippedQueries === queries.length ? "skipped" : "partial";
  return { items, degradation, rateLimited, retryAttempts, skippedQueries };
}
