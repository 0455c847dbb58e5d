import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { replaySession } from "../../examples/review-bot/agent/replay-session.ts";
import { mentionComment, pullRequestOpened } from "../../examples/review-bot/sample-payloads.ts";
import { maxTurns } from "../claude-agent/fixtures/single-runs.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { startBot, type Bot } from "./harness.ts";

let bot: Bot | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});
afterAll(removeTempDirs);

describe("every execution is recorded with the webhook's identity", () => {
  test("a pull request review: delivery id, repo, PR number, event type, model, tokens, cost, duration, conclusion", async () => {
    bot = startBot();
    const response = await bot.send("pull_request", pullRequestOpened("octo-org/app", 42), { id: "delivery-review-1" });
    expect(response.status).toBe(202);
    await bot.settled();

    const rows = bot.rows("executions");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      delivery_id: "delivery-review-1",
      repo: "octo-org/app",
      pr_number: 42,
      event_type: "pull_request.opened",
      model: "claude-sonnet-4-5-20250929",
      input_tokens: 31,
      output_tokens: 1_184,
      cache_read_tokens: 41_302,
      cache_creation_tokens: 9_876,
      cost_usd: 0.0666771,
      cost_source: "reported",
      duration_ms: 31_870,
      conclusion: "success",
      num_turns: 5,
    });
    expect(bot.published).toEqual([expect.objectContaining({ kind: "review", repo: "octo-org/app", number: 42, deliveryId: "delivery-review-1" })]);
    expect(bot.published[0]!.body).toContain("Review summary");
  });

  test("a mention records issue_comment.created and gets a reply", async () => {
    bot = startBot();
    expect((await bot.send("issue_comment", mentionComment("octo-org/app", 42), { id: "delivery-mention-1" })).status).toBe(202);
    await bot.settled();

    expect(bot.rows("executions")).toEqual([
      expect.objectContaining({ delivery_id: "delivery-mention-1", event_type: "issue_comment.created", repo: "octo-org/app", pr_number: 42, conclusion: "success", output_tokens: 164 }),
    ]);
    expect(bot.published).toEqual([expect.objectContaining({ kind: "comment", number: 42 })]);
  });

  test("a comment that does not mention the bot, and events the bot does not handle, are acknowledged and ignored", async () => {
    bot = startBot();
    expect((await bot.send("issue_comment", mentionComment("octo-org/app", 42, "ping @tally-botany, not the bot"))).status).toBe(200);
    expect((await bot.send("push", { ref: "refs/heads/main", repository: { full_name: "octo-org/app" } })).status).toBe(200);
    expect((await bot.send("pull_request", { ...pullRequestOpened(), action: "closed" })).status).toBe(200);
    await bot.settled();
    expect(bot.rows("executions")).toEqual([]);
    expect(bot.published).toEqual([]);
  });

  test("a failed run (error_max_turns result) is recorded as failure and still answered", async () => {
    bot = startBot({ session: replaySession(maxTurns) });
    await bot.send("pull_request", pullRequestOpened("octo-org/app", 7), { id: "delivery-failure" });
    await bot.settled();

    expect(bot.rows("executions")).toEqual([
      expect.objectContaining({ delivery_id: "delivery-failure", pr_number: 7, conclusion: "failure", stop_reason: "tool_use", output_tokens: 655 }),
    ]);
    expect(bot.published[0]!.body).toContain("could not finish this (failure)");
  });

  test("an SDK that throws is recorded as error, with the configured model, and still answered", async () => {
    bot = startBot({
      session: async function* () {
        throw new Error("Claude Code process exited with code 1");
      },
    });
    await bot.send("pull_request", pullRequestOpened("octo-org/app", 8), { id: "delivery-error" });
    await bot.settled();

    expect(bot.rows("executions")).toEqual([
      expect.objectContaining({ delivery_id: "delivery-error", event_type: "pull_request.opened", pr_number: 8, conclusion: "error", model: "claude-sonnet-4-5" }),
    ]);
    expect(bot.published[0]!.body).toContain("Claude Code process exited with code 1");
  });
});
