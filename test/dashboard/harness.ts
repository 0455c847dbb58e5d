/**
 * A real `tally serve` (startServer, port 0, the clock fixed at NOW) on a database with known
 * contents, and headless Chromium (Debian's, driven by playwright-core) that records every
 * console error and every request, so each test can prove the page stayed on the server's origin.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { StoredRecord } from "../../src/core/rows.ts";
import { startServer, type RunningServer } from "../../src/server/start.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { NOW } from "../cli/harness.ts";
import { degradationRecords, toolRecords, usageRecords } from "../cli/known-db.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { tempDir } from "../support/temp-dir.ts";

export const CHROMIUM = process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium";
export { NOW };

const at = (iso: string) => Date.parse(iso);

/**
 * One run with everything around it: PR #42 on acme/api, two tool calls (one failed), a
 * degradation and a cache lookup of its delivery, and its session.
 *
 *  run-pr-42  2026-11-20 12:00:00Z  acme/api  pull_request.opened  claude-sonnet-4-5  success  60 s  $0.50 reported
 */
export function prRunRecords(): StoredRecord[] {
  const end = at("2026-11-20T12:00:00Z");
  return [
    { kind: "sessionStart", row: { id: "session-42", createdAt: end - 61_000, source: "mcp", clientName: "review-bot", clientVersion: "1.4.0" } },
    { kind: "sessionEnd", row: { id: "session-42", endedAt: end + 1_000 } },
    execution({
      id: "run-pr-42", createdAt: end, repo: "acme/api", prNumber: 42, deliveryId: "delivery-42", eventType: "pull_request.opened", model: "claude-sonnet-4-5",
      inputTokens: 1200, outputTokens: 300, cacheReadTokens: 5000, cacheCreationTokens: 250, durationMs: 60_000, costUsd: 0.5, costSource: "reported",
      conclusion: "success", sessionId: "session-42", numTurns: 3, stopReason: "end_turn",
    }),
    toolCall({ id: "call-42-a", createdAt: end - 50_000, sessionId: "session-42", executionId: "run-pr-42", server: "github", toolName: "get_file", durationMs: 1500, outcome: "ok" }),
    toolCall({ id: "call-42-b", createdAt: end - 30_000, sessionId: "session-42", executionId: "run-pr-42", server: "github", toolName: "search_code", durationMs: 2500, outcome: "tool_error", errorType: "timeout" }),
    rateLimitEvent({ id: "limit-42", createdAt: end - 20_000, deliveryId: "delivery-42", eventType: "pull_request.opened", repo: "acme/api", prNumber: 42, executionId: "run-pr-42", resource: "graphql", retryAttempts: 2, skippedQueries: 1, degradation: "partial", limit: 5000, remaining: 0 }),
    cacheEvent({ id: "cache-42", createdAt: end - 55_000, cache: "pr-diffs", outcome: "miss", deliveryId: "delivery-42", eventType: "pull_request.opened", repo: "acme/api" }),
  ];
}

export interface Served {
  url: string;
  store: SqliteStore;
  path: string;
  close(): Promise<void>;
}

/** The known database (test/cli/known-db.ts plus the PR run) behind a listening server. */
export async function serveKnownDb(options: { readToken?: string } = {}): Promise<Served> {
  const path = join(tempDir(), "tally.db");
  const store = openSqliteStore({ path, retentionDays: 0, now: () => NOW });
  const written = store.write([...usageRecords(), ...toolRecords(), ...degradationRecords(), ...prRunRecords()]);
  if (!written.ok) throw new Error(`fixture write failed: ${written.failure}`);
  const running: RunningServer = await startServer({ store, port: 0, now: () => NOW, ...options });
  return {
    url: running.url,
    store,
    path,
    async close() {
      await running.close();
      store.close();
    },
  };
}

/** A browser page that records what must not happen: console errors, page errors, requests elsewhere. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: string[];
  requests: string[];
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set TALLY_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
}

export async function watchedPage(browser: Browser, options: { timezoneId?: string; colorScheme?: "light" | "dark"; width?: number } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    timezoneId: options.timezoneId ?? "UTC",
    colorScheme: options.colorScheme ?? "light",
    viewport: { width: options.width ?? 1280, height: 900 },
    locale: "en-US",
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  return { page, context, problems, requests };
}

/** The text of every cell of a table's body rows. */
export async function tableCells(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? "").trim())));
}

/** GETs the API as the test's own client. */
export async function api<T = any>(base: string, path: string, query: Record<string, string | string[]>, token?: string): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) if (one !== "") params.append(k, one);
  const response = await fetch(`${base}/api/v1/${path}?${params}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
