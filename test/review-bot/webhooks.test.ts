import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import type { AgentSession } from "../../examples/review-bot/agent/executor.ts";
import { recordedReview } from "../../examples/review-bot/agent/recorded-session.ts";
import { pullRequestOpened } from "../../examples/review-bot/sample-payloads.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { startBot, type Bot } from "./harness.ts";

let bot: Bot | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});
afterAll(removeTempDirs);

describe("signatures are checked on the raw body", () => {
  test("a wrong secret, a missing signature and a body changed after signing get 401 and record nothing", async () => {
    bot = startBot();
    expect((await bot.send("pull_request", pullRequestOpened(), { secret: "not-the-secret" })).status).toBe(401);
    expect((await bot.send("pull_request", pullRequestOpened(), { signature: null })).status).toBe(401);
    // Signed over a different serialisation of the same JSON: the raw bytes differ, so it fails.
    const { sign } = await import("@octokit/webhooks-methods");
    const reformatted = await sign("test-webhook-secret", JSON.stringify(pullRequestOpened(), null, 2));
    expect((await bot.send("pull_request", pullRequestOpened(), { signature: reformatted })).status).toBe(401);
    await bot.settled();

    expect(bot.rows("executions")).toEqual([]);
    expect(bot.published).toEqual([]);
    expect(bot.calls.recordExecution).toBe(0);
  });
});

describe("duplicate deliveries", () => {
  test("the same X-GitHub-Delivery sent twice is reviewed once and recorded once", async () => {
    bot = startBot();
    const first = await bot.send("pull_request", pullRequestOpened(), { id: "delivery-twice" });
    const second = await bot.send("pull_request", pullRequestOpened(), { id: "delivery-twice" });
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(await second.json()).toEqual({ duplicate: true });
    await bot.settled();

    expect(bot.published).toHaveLength(1);
    expect(bot.calls.recordExecution).toBe(1);
    expect(bot.rows("executions").map((row) => row.delivery_id)).toEqual(["delivery-twice"]);
  });
});

/** A session that waits for the test to release it, so the test can see what runs at once. */
function gatedSession() {
  const running = new Set<string>();
  let maxSameRepo = 0;
  const started: string[] = [];
  const gates: Array<() => void> = [];
  const session: AgentSession = async function* ({ prompt }) {
    const repo = /in (\S+): /.exec(prompt)![1]!;
    started.push(repo);
    if (running.has(repo)) maxSameRepo = 2;
    running.add(repo);
    await new Promise<void>((resolve) => gates.push(resolve));
    running.delete(repo);
    yield* recordedReview as SDKMessage[];
  };
  return { session, started, gates, maxSameRepo: () => maxSameRepo };
}

describe("the queue", () => {
  test("runs one job at a time per repository, different repositories concurrently", async () => {
    const gated = gatedSession();
    bot = startBot({ session: gated.session });
    await bot.send("pull_request", pullRequestOpened("octo-org/app", 1));
    await bot.send("pull_request", pullRequestOpened("octo-org/app", 2));
    await bot.send("pull_request", pullRequestOpened("octo-org/web", 3));
    // Both repositories' first jobs reach the agent; app's second waits behind its first.
    while (gated.started.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(gated.started.sort()).toEqual(["octo-org/app", "octo-org/web"]);

    while (gated.started.length < 3 || gated.gates.length > 0) {
      gated.gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await bot.settled();
    expect(gated.maxSameRepo()).toBe(0);
    expect(bot.published.map((p) => `${p.repo}#${p.number}`).sort()).toEqual(["octo-org/app#1", "octo-org/app#2", "octo-org/web#3"]);
    expect(bot.rows("executions")).toHaveLength(3);
  });
});
