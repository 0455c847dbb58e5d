import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createTelemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { pullRequestOpened } from "../../examples/review-bot/sample-payloads.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterAll(removeTempDirs);

const DAY_MS = 86_400_000;

/** Reads a child's JSON log lines as they come, and waits for one matching `msg`. */
function logReader(stream: ReadableStream<Uint8Array>) {
  const lines: Array<Record<string, unknown>> = [];
  let text = "";
  let wake: () => void = () => {};
  let ended = false;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          // Not one of ours (a runtime warning); ignored.
        }
      }
      wake();
    }
    ended = true;
    wake();
  })();
  return {
    lines,
    async waitFor(msg: string): Promise<Record<string, unknown>> {
      for (;;) {
        const found = lines.find((line) => line.msg === msg);
        if (found) return found;
        if (ended) throw new Error(`the bot exited before logging "${msg}": ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

test("main.ts purges rows older than 90 days at start-up, reviews a signed delivery, and drains on SIGTERM", async () => {
  const path = join(tempDir(), "data", "tally.db");
  const seed = createTelemetry({ store: openSqliteStore({ path, retentionDays: 0 }), flushOnExit: false });
  seed.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", repo: "octo-org/old", createdAt: Date.now() - 120 * DAY_MS });
  await seed.shutdown();

  const child = Bun.spawn([process.execPath, "examples/review-bot/main.ts"], {
    env: { ...process.env, WEBHOOK_SECRET: "process-secret", PORT: "0", TELEMETRY_DB_PATH: path, ANTHROPIC_API_KEY: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const log = logReader(child.stderr);
  await log.waitFor("review-bot: telemetry store open");
  const { url, mode } = await log.waitFor("review-bot: listening");
  expect(mode).toBe("replay");
  expect(String(url)).toStartWith("http://127.0.0.1:");

  const body = JSON.stringify(pullRequestOpened("octo-org/app", 42));
  const response = await fetch(String(url), {
    method: "POST",
    headers: { "x-github-event": "pull_request", "x-github-delivery": "delivery-process", "x-hub-signature-256": await sign("process-secret", body) },
    body,
  });
  expect(response.status).toBe(202);
  await log.waitFor("review-bot: review finished");

  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
  expect(await new Response(child.stdout).text()).toContain("would post a review on octo-org/app#42");

  const db = new Database(path, { readonly: true });
  try {
    // The 120-day-old row is gone; the review's row is there.
    expect(db.query("SELECT repo, delivery_id, event_type, conclusion FROM executions").all()).toEqual([
      { repo: "octo-org/app", delivery_id: "delivery-process", event_type: "pull_request.opened", conclusion: "success" },
    ]);
  } finally {
    db.close();
  }
});

test("SIGTERM with a review still running past the drain wait: the run is recorded as cancelled with its tokens so far, exit 0", async () => {
  const path = join(tempDir(), "data", "tally.db");
  const child = Bun.spawn([process.execPath, "examples/review-bot/main.ts"], {
    env: {
      ...process.env,
      WEBHOOK_SECRET: "process-secret",
      PORT: "0",
      TELEMETRY_DB_PATH: path,
      ANTHROPIC_API_KEY: "",
      REPLAY_RESULT_DELAY_MS: "60000",
      DRAIN_TIMEOUT_MS: "300",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const log = logReader(child.stderr);
  const { url } = await log.waitFor("review-bot: listening");
  const body = JSON.stringify(pullRequestOpened("octo-org/app", 7));
  const response = await fetch(String(url), {
    method: "POST",
    headers: { "x-github-event": "pull_request", "x-github-delivery": "delivery-slow", "x-hub-signature-256": await sign("process-secret", body) },
    body,
  });
  expect(response.status).toBe(202);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the review streams, its result 60 s away
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
  const stopped = await log.waitFor("review-bot: stopped");
  expect((stopped.stats as { dropped: Record<string, number> }).dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });

  const db = new Database(path, { readonly: true });
  try {
    const rows = db.query("SELECT delivery_id, conclusion, output_tokens, attributes FROM executions").all() as { delivery_id: string; conclusion: string; output_tokens: number; attributes: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ delivery_id: "delivery-slow", conclusion: "cancelled" });
    expect(rows[0]!.output_tokens).toBeGreaterThan(0);
    expect(JSON.parse(rows[0]!.attributes).errorType).toBe("shutdown");
  } finally {
    db.close();
  }
});
