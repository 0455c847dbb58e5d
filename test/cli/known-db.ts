/**
 * Databases with known contents, written through the real store (`openSqliteStore().write`),
 * so rollups and raw rows are exactly what a service would have left. Tests state their
 * expected numbers as literals worked out by hand from the tables below.
 */
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { StoredRecord } from "../../src/core/rows.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cacheEvent, execution, rateLimitEvent, toolCall } from "../contract/rows.ts";
import { tempDir } from "../support/temp-dir.ts";
import { NOW } from "./harness.ts";

const at = (iso: string) => Date.parse(iso);

/** Writes `records` into a fresh database file through the store and closes it. */
export function writeDb(records: StoredRecord[], path = join(tempDir(), "tally.db")): string {
  const store = openSqliteStore({ path, retentionDays: 0, now: () => NOW });
  if (store.unwritableReason !== null) throw new Error(store.unwritableReason);
  const result = store.write(records);
  store.close();
  if (!result.ok) throw new Error(`fixture write failed: ${result.failure}`);
  return path;
}

/**
 * Ten runs. 2026-11-22 is a Sunday; ISO weeks start on Monday 10-26, 11-02 and 11-16.
 *
 *  #  created_at (UTC)          repo        event                     provider  model              in    out   c.read c.write dur(ms) cost     source    conclusion
 *  1  2026-10-30 10:00          acme/api    pull_request.opened       anthropic claude-sonnet-4-5  1000  200   0      0       10000   0.5      reported  success
 *  2  2026-11-02 08:00          acme/api    pull_request.synchronize  anthropic claude-sonnet-4-5  2000  300   500    100     20000   0.25     computed  success
 *  3  2026-11-08 20:00          acme/web    issue_comment.created     anthropic claude-opus-4-1    3000  400   1000   0       30000   1        reported  failure
 *  4  2026-11-16 00:00:00.000   acme/web    pull_request.opened       openai    gpt-4o             4000  500   0      200     40000   0.125    computed  success
 *  5  2026-11-16 23:59:59.999   other/tool  pull_request.opened       acme-llm  mystery-model-1    5000  600   0      0       50000   0        unpriced  error
 *  6  2026-11-21 12:00          acme/api    pull_request.opened       anthropic claude-sonnet-4-5  600   700   2000   300     5000    0.75     reported  success
 *  7  2026-11-22 02:00          acme/api    issue_comment.created     anthropic claude-sonnet-4-5  100   50    0      0       1000    0.0625   reported  failure
 *  8  2026-11-22 09:00          acme/web    pull_request.synchronize  openai    gpt-4o             200   60    0      0       2000    0.03125  computed  success
 *  9  2026-11-22 14:00          other/tool  issue_comment.created     ollama    local-llama        300   70    0      0       3000    0        unpriced  success
 * 10  2026-11-22 15:00          acme/api    pull_request.opened       anthropic claude-opus-4-1    400   80    100    50      4000    2        reported  error
 *
 * Costs are binary fractions, so every sum is exact in floating point.
 */
export function usageRecords(): StoredRecord[] {
  const run = (
    iso: string, repo: string, eventType: string, provider: string, model: string,
    inputTokens: number, outputTokens: number, cacheReadTokens: number, cacheCreationTokens: number,
    durationMs: number, costUsd: number, costSource: "reported" | "computed" | "unpriced", conclusion: string,
  ) => execution({ createdAt: at(iso), repo, eventType, provider, model, inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens, durationMs, costUsd, costSource, conclusion });
  return [
    run("2026-10-30T10:00:00Z", "acme/api", "pull_request.opened", "anthropic", "claude-sonnet-4-5", 1000, 200, 0, 0, 10000, 0.5, "reported", "success"),
    run("2026-11-02T08:00:00Z", "acme/api", "pull_request.synchronize", "anthropic", "claude-sonnet-4-5", 2000, 300, 500, 100, 20000, 0.25, "computed", "success"),
    run("2026-11-08T20:00:00Z", "acme/web", "issue_comment.created", "anthropic", "claude-opus-4-1", 3000, 400, 1000, 0, 30000, 1, "reported", "failure"),
    run("2026-11-16T00:00:00.000Z", "acme/web", "pull_request.opened", "openai", "gpt-4o", 4000, 500, 0, 200, 40000, 0.125, "computed", "success"),
    run("2026-11-16T23:59:59.999Z", "other/tool", "pull_request.opened", "acme-llm", "mystery-model-1", 5000, 600, 0, 0, 50000, 0, "unpriced", "error"),
    run("2026-11-21T12:00:00Z", "acme/api", "pull_request.opened", "anthropic", "claude-sonnet-4-5", 600, 700, 2000, 300, 5000, 0.75, "reported", "success"),
    run("2026-11-22T02:00:00Z", "acme/api", "issue_comment.created", "anthropic", "claude-sonnet-4-5", 100, 50, 0, 0, 1000, 0.0625, "reported", "failure"),
    run("2026-11-22T09:00:00Z", "acme/web", "pull_request.synchronize", "openai", "gpt-4o", 200, 60, 0, 0, 2000, 0.03125, "computed", "success"),
    run("2026-11-22T14:00:00Z", "other/tool", "issue_comment.created", "ollama", "local-llama", 300, 70, 0, 0, 3000, 0, "unpriced", "success"),
    run("2026-11-22T15:00:00Z", "acme/api", "pull_request.opened", "anthropic", "claude-opus-4-1", 400, 80, 100, 50, 4000, 2, "reported", "error"),
  ];
}

/**
 * Ten tool calls.
 *
 *  #  created_at        server  tool           dur   outcome         session
 *  1  2026-11-16 10:00  github  search_code    100   ok              s1
 *  2  2026-11-16 11:00  github  search_code    200   ok              s1
 *  3  2026-11-16 12:00  github  search_code    300   tool_error      s2
 *  4  2026-11-21 10:00  github  search_code    400   ok              s3
 *  5  2026-11-21 10:00  github  get_file       50    ok              s1
 *  6  2026-11-21 11:00  github  get_file       150   protocol_error  s2
 *  7  2026-11-22 09:00  github  get_file       250   cancelled       (none)
 *  8  2026-11-22 10:00  jira    search_issues  1000  ok              s3
 *  9  2026-11-22 11:00  jira    search_issues  3000  tool_error      s3
 * 10  2026-11-02 10:00  jira    search_issues  2000  ok              s4
 */
export function toolRecords(): StoredRecord[] {
  const call = (iso: string, server: string, toolName: string, durationMs: number, outcome: "ok" | "tool_error" | "protocol_error" | "cancelled", sessionId: string | null) =>
    toolCall({ createdAt: at(iso), server, toolName, durationMs, outcome, sessionId });
  return [
    call("2026-11-16T10:00:00Z", "github", "search_code", 100, "ok", "s1"),
    call("2026-11-16T11:00:00Z", "github", "search_code", 200, "ok", "s1"),
    call("2026-11-16T12:00:00Z", "github", "search_code", 300, "tool_error", "s2"),
    call("2026-11-21T10:00:00Z", "github", "search_code", 400, "ok", "s3"),
    call("2026-11-21T10:00:00Z", "github", "get_file", 50, "ok", "s1"),
    call("2026-11-21T11:00:00Z", "github", "get_file", 150, "protocol_error", "s2"),
    call("2026-11-22T09:00:00Z", "github", "get_file", 250, "cancelled", null),
    call("2026-11-22T10:00:00Z", "jira", "search_issues", 1000, "ok", "s3"),
    call("2026-11-22T11:00:00Z", "jira", "search_issues", 3000, "tool_error", "s3"),
    call("2026-11-02T10:00:00Z", "jira", "search_issues", 2000, "ok", "s4"),
  ];
}

/**
 * Five degraded runs and ten cache lookups.
 *
 *  #  created_at        repo      resource  retries  skipped  degradation
 *  1  2026-11-16 10:00  acme/api  search    3        2        partial
 *  2  2026-11-21 10:00  acme/api  graphql   1        0        retried
 *  3  2026-11-21 11:00  acme/web  search    5        4        skipped
 *  4  2026-11-22 09:00  acme/api  search    2        1        partial
 *  5  2026-11-02 09:00  acme/web  core      0        7        skipped
 *
 *  cache   repo      2026-11-02  2026-11-16               2026-11-21         2026-11-22
 *  search  acme/api  miss        hit, hit, miss, error    -                  hit
 *  files   acme/web  -           -                        hit, miss, miss    -
 *  tokens  (none)    -           -                        -                  error
 */
export function degradationRecords(): StoredRecord[] {
  const degraded = (iso: string, repo: string, resource: string, retryAttempts: number, skippedQueries: number, degradation: string) =>
    rateLimitEvent({ createdAt: at(iso), repo, resource, retryAttempts, skippedQueries, degradation });
  const lookup = (iso: string, cache: string, repo: string, outcome: "hit" | "miss" | "error") => cacheEvent({ createdAt: at(iso), cache, repo, outcome });
  return [
    degraded("2026-11-16T10:00:00Z", "acme/api", "search", 3, 2, "partial"),
    degraded("2026-11-21T10:00:00Z", "acme/api", "graphql", 1, 0, "retried"),
    degraded("2026-11-21T11:00:00Z", "acme/web", "search", 5, 4, "skipped"),
    degraded("2026-11-22T09:00:00Z", "acme/api", "search", 2, 1, "partial"),
    degraded("2026-11-02T09:00:00Z", "acme/web", "core", 0, 7, "skipped"),
    lookup("2026-11-02T09:00:00Z", "search", "acme/api", "miss"),
    lookup("2026-11-16T09:00:00Z", "search", "acme/api", "hit"),
    lookup("2026-11-16T09:01:00Z", "search", "acme/api", "hit"),
    lookup("2026-11-16T09:02:00Z", "search", "acme/api", "miss"),
    lookup("2026-11-16T09:03:00Z", "search", "acme/api", "error"),
    lookup("2026-11-22T09:00:00Z", "search", "acme/api", "hit"),
    lookup("2026-11-21T09:00:00Z", "files", "acme/web", "hit"),
    lookup("2026-11-21T09:01:00Z", "files", "acme/web", "miss"),
    lookup("2026-11-21T09:02:00Z", "files", "acme/web", "miss"),
    lookup("2026-11-22T09:05:00Z", "tokens", "", "error"),
  ];
}

/** The ten runs, ten tool calls, five degraded runs and ten cache lookups above, in one file. */
export function knownDb(): string {
  return writeDb([...usageRecords(), ...toolRecords(), ...degradationRecords()]);
}

/** Row counts of every table, and a checksum of every executions row, read with a plain connection. */
export function fingerprint(path: string): { tables: Record<string, number>; executionsSha256: string; schema: string } {
  const db = new Database(path, { readonly: true });
  try {
    const names = (db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const tables = Object.fromEntries(names.map((name) => [name, (db.query(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]));
    const rows = db.query("SELECT * FROM executions ORDER BY id").all();
    const executionsSha256 = createHash("sha256").update(JSON.stringify(rows)).digest("hex");
    const schema = (db.query("SELECT group_concat(sql, ';') AS s FROM sqlite_master").get() as { s: string }).s;
    return { tables, executionsSha256, schema };
  } finally {
    db.close();
  }
}
