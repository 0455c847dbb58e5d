import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { transcriptRoots } from "../../src/capture/claude-code/locations.ts";
import type { UsageLine } from "../../src/capture/claude-code/parse-line.ts";
import { encodeProjectPath, projectFolderOf, repoFor } from "../../src/capture/claude-code/project.ts";
import { CLAUDE_CODE_EVENT_TYPE, executionIdFor, toExecutionRecord } from "../../src/capture/claude-code/to-execution.ts";
import { prepareRecord } from "../../src/core/validate.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

const LINE: UsageLine = {
  messageId: "msg_01ABC",
  requestId: "req_011CXYZ",
  uuid: "5f076459-26e1-4797-8fce-44631197ee44",
  sessionId: "sess-1",
  createdAt: Date.UTC(2026, 0, 5, 12),
  model: "claude-sonnet-4-5-20250929",
  inputTokens: 4,
  outputTokens: 300,
  cacheReadTokens: 15_000,
  cacheCreationTokens: 1_200,
  costUsd: null,
  cwd: "/home/dev/src/app",
  version: "2.0.14",
  isSidechain: true,
  agentId: "a1b2",
  stopReason: "end_turn",
};

describe("executionIdFor: one id per API response, the same everywhere", () => {
  test("requestId and message.id make the id (ccusage's dedupe key; the time-ordered request id first)", () => {
    expect(executionIdFor(LINE, "raw")).toBe("claude-code:req_011CXYZ:msg_01ABC");
    // Another line of the same response (another content block, a copy in another file): same id.
    expect(executionIdFor({ ...LINE, uuid: "other", outputTokens: 9 }, "other raw")).toBe("claude-code:req_011CXYZ:msg_01ABC");
  });

  test("without a requestId, the message id alone: every streamed line of the response is one execution", () => {
    expect(executionIdFor({ ...LINE, requestId: null }, "raw")).toBe("claude-code:msg:msg_01ABC");
    expect(executionIdFor({ ...LINE, requestId: null, uuid: "another-line", outputTokens: 900 }, "other raw")).toBe("claude-code:msg:msg_01ABC");
  });

  test("without a message id, the line's own uuid, then a hash of its text", () => {
    expect(executionIdFor({ ...LINE, messageId: null }, "raw")).toBe("claude-code:line:5f076459-26e1-4797-8fce-44631197ee44");
    const hashed = executionIdFor({ ...LINE, messageId: null, uuid: null }, "raw text");
    expect(hashed).toMatch(/^claude-code:sha256:[0-9a-f]{64}$/);
    expect(executionIdFor({ ...LINE, messageId: null, uuid: null }, "raw text")).toBe(hashed);
    expect(executionIdFor({ ...LINE, messageId: null, uuid: null }, "other text")).not.toBe(hashed);
  });

  test("an id longer than 128 characters is hashed", () => {
    const id = executionIdFor({ ...LINE, messageId: "m".repeat(200) }, "raw");
    expect(id).toMatch(/^claude-code:sha256:[0-9a-f]{64}$/);
    expect(id.length).toBeLessThanOrEqual(128);
  });
});

describe("toExecutionRecord → prepareRecord", () => {
  const pricer = createPricer();
  const context = { repo: "/home/dev/src/app", fallbackSessionId: "file-session" };

  test("maps tokens with Anthropic semantics and prices a response that reported no cost", () => {
    const { row } = prepareRecord("execution", toExecutionRecord(LINE, "id-1", context), 0, pricer) as unknown as { row: Record<string, unknown> };
    expect(row).toMatchObject({
      id: "id-1",
      createdAt: LINE.createdAt,
      repo: "/home/dev/src/app",
      eventType: CLAUDE_CODE_EVENT_TYPE,
      provider: "anthropic",
      model: "claude-sonnet-4-5-20250929",
      inputTokens: 4,
      outputTokens: 300,
      cacheReadTokens: 15_000,
      cacheCreationTokens: 1_200,
      durationMs: 0,
      conclusion: "success",
      sessionId: "sess-1",
      stopReason: "end_turn",
      costSource: "computed",
    });
    expect(row.costUsd as number).toBeGreaterThan(0);
    expect(JSON.parse(row.attributes as string)).toEqual({ cwd: "/home/dev/src/app", version: "2.0.14", sidechain: true, agentId: "a1b2" });
  });

  test("a reported costUSD wins; a response without model or session id still maps", () => {
    const { row } = prepareRecord("execution", toExecutionRecord({ ...LINE, costUsd: 0.5, model: null, sessionId: null }, "id-2", context), 0, pricer) as unknown as { row: Record<string, unknown> };
    expect(row).toMatchObject({ costUsd: 0.5, costSource: "reported", model: "unknown", sessionId: "file-session" });
  });
});

describe("project folder → repo", () => {
  test("the folder below the last `projects` segment, also for subagent files", () => {
    expect(projectFolderOf("/home/u/.claude/projects/-home-u-src-app/abc.jsonl")).toBe("-home-u-src-app");
    expect(projectFolderOf("/home/u/.claude/projects/-home-u-src-app/abc/subagents/agent-1.jsonl")).toBe("-home-u-src-app");
    expect(projectFolderOf("/backup/projects/x/.claude/projects/-p/s.jsonl")).toBe("-p");
    expect(projectFolderOf("/tmp/loose/s.jsonl")).toBe("loose");
  });

  test("decoded with the transcript's cwd when it encodes to the folder name, else kept as it is", () => {
    expect(encodeProjectPath("/home/u/my-app.v2/web_ui")).toBe("-home-u-my-app-v2-web-ui");
    expect(repoFor("-home-u-my-app-v2-web-ui", "/home/u/my-app.v2/web_ui")).toBe("/home/u/my-app.v2/web_ui");
    expect(repoFor("-home-u-my-app", "/home/u/my-app/sub")).toBe("-home-u-my-app");
    expect(repoFor("-home-u-my-app", null)).toBe("-home-u-my-app");
  });
});

describe("transcriptRoots", () => {
  test("CLAUDE_CONFIG_DIR (comma-separated) replaces the defaults, each with /projects, and says which exist", () => {
    const a = tempDir();
    const b = tempDir();
    mkdirSync(join(a, "projects"));
    const roots = transcriptRoots({ CLAUDE_CONFIG_DIR: ` ${a} , ${b},${a}` }, "/nonexistent-home");
    expect(roots).toEqual([
      { path: join(a, "projects"), exists: true },
      { path: join(b, "projects"), exists: false },
    ]);
  });

  test("defaults: $XDG_CONFIG_HOME/claude/projects (else ~/.config/claude/projects) and ~/.claude/projects", () => {
    const home = tempDir();
    mkdirSync(join(home, ".claude", "projects"), { recursive: true });
    expect(transcriptRoots({}, home)).toEqual([
      { path: join(home, ".config", "claude", "projects"), exists: false },
      { path: join(home, ".claude", "projects"), exists: true },
    ]);
    expect(transcriptRoots({ XDG_CONFIG_HOME: "/xdg", CLAUDE_CONFIG_DIR: "  " }, home)[0]).toEqual({ path: "/xdg/claude/projects", exists: false });
  });
});
