import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Store } from "../../src/index.ts";
import { GitHubApiError, type GitHubApi } from "../../examples/review-bot/github/api.ts";
import { offlineGitHubApi } from "../../examples/review-bot/github/offline-api.ts";
import { pullRequestOpened } from "../../examples/review-bot/sample-payloads.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { startBot, type Bot } from "./harness.ts";

let bot: Bot | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});
afterAll(removeTempDirs);

/** GitHub search answering as it does when the limit is spent, for the first `limitedCalls` calls (all by default). */
function rateLimitedSearch(limitedCalls = Infinity, status: 403 | 429 = 403): GitHubApi & { calls: number } {
  const offline = offlineGitHubApi();
  const api = {
    calls: 0,
    async searchIssues(query: string) {
      api.calls++;
      if (api.calls <= limitedCalls) throw new GitHubApiError(status, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767225600" });
      return offline.searchIssues(query);
    },
  };
  return api;
}

describe("a search rate limit degrades the review, which still completes", () => {
  test("retried three times with backoff, then one rate-limit row with the webhook's identity, and the review publishes", async () => {
    const search = rateLimitedSearch();
    bot = startBot({ github: search });
    expect((await bot.send("pull_request", pullRequestOpened("octo-org/app", 42), { id: "delivery-limited" })).status).toBe(202);
    await bot.settled();

    expect(search.calls).toBe(4); // the first try and three retries; the second query is never sent
    expect(bot.sleeps).toEqual([10, 20, 40]);
    expect(bot.calls.recordRateLimitEvent).toBe(1); // emitted once, not deduplicated by the store
    const [execution] = bot.rows("executions");
    expect(bot.rows("rate_limit_events")).toEqual([
      expect.objectContaining({
        delivery_id: "delivery-limited",
        event_type: "pull_request.opened",
        repo: "octo-org/app",
        pr_number: 42,
        resource: "search",
        retry_attempts: 3,
        skipped_queries: 2,
        degradation: "skipped",
        execution_id: execution!.id,
      }),
    ]);
    expect(execution).toMatchObject({ delivery_id: "delivery-limited", conclusion: "success" });
    expect(bot.published).toHaveLength(1);
    expect(bot.published[0]!.body).toContain("rate-limited; related issues are missing");
  });

  test("a limit that lifts on the third retry (429) degrades nothing and records no rate-limit event", async () => {
    bot = startBot({ github: rateLimitedSearch(3, 429) });
    await bot.send("pull_request", pullRequestOpened());
    await bot.settled();
    expect(bot.sleeps).toEqual([10, 20, 40]);
    expect(bot.rows("rate_limit_events")).toEqual([]);
    expect(bot.published[0]!.body).not.toContain("rate-limited");
  });

  test("a limit hit on the second query keeps the first query's results: partial", async () => {
    const offline = offlineGitHubApi();
    let calls = 0;
    const github: GitHubApi = {
      async searchIssues(query) {
        if (++calls === 1) return offline.searchIssues(query);
        throw new GitHubApiError(403, { "x-ratelimit-remaining": "0" });
      },
    };
    bot = startBot({ github });
    await bot.send("pull_request", pullRequestOpened(), { id: "delivery-partial" });
    await bot.settled();
    expect(bot.rows("rate_limit_events")).toEqual([
      expect.objectContaining({ delivery_id: "delivery-partial", retry_attempts: 3, skipped_queries: 1, degradation: "partial" }),
    ]);
    expect(bot.published[0]!.body).toContain("related issues are incomplete");
  });

  test("a 403 that is not a rate limit is not retried and records no rate-limit event", async () => {
    bot = startBot({
      github: {
        async searchIssues() {
          throw new GitHubApiError(403, { "x-ratelimit-remaining": "4999" }, "Resource not accessible by integration");
        },
      },
    });
    await bot.send("pull_request", pullRequestOpened());
    await bot.settled();
    expect(bot.sleeps).toEqual([]);
    expect(bot.rows("rate_limit_events")).toEqual([]);
    expect(bot.published).toHaveLength(1);
  });
});

describe("telemetry failures never stop a review", () => {
  test("with a store whose write() throws, reviews complete and publish, the failure is logged, and the server keeps answering", async () => {
    const fail = () => {
      throw new Error("disk I/O error");
    };
    const store: Store = { write: fail, purgeOlderThan: fail, checkpoint: fail, close: fail };
    bot = startBot({ github: rateLimitedSearch(), store });

    expect((await bot.send("pull_request", pullRequestOpened("octo-org/app", 1))).status).toBe(202);
    await bot.settled();
    expect((await bot.send("pull_request", pullRequestOpened("octo-org/app", 2))).status).toBe(202);
    await bot.settled();

    expect(bot.published.map((p) => p.number)).toEqual([1, 2]);
    expect(bot.calls.recordExecution).toBe(2);
    expect(bot.calls.recordRateLimitEvent).toBe(2);
    expect(bot.logger.lines.some((line) => (line.level === "error" || line.level === "warn") && line.msg?.startsWith("tally:"))).toBe(true);
    expect((await fetch(bot.url.replace("/webhooks", "/healthz"))).status).toBe(200);
  });
});
