/**
 * Streamed responses: Claude Code writes a response's lines while it streams (a partial
 * `output_tokens` and no `stop_reason` first, the final count last). One execution per
 * response, with the final snapshot's usage at the first line's time, however the lines are
 * split across batches and imports; the rollups always equal the raw rows.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importClaudeCodeTranscripts, type ImportTranscriptsResult } from "../../src/capture/claude-code/import-transcripts.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

interface Snapshot {
  messageId: string;
  requestId?: string;
  at: string;
  output: number;
  stop?: string;
  costUSD?: number;
  version?: string;
}

/** One assistant line as Claude Code 2.x writes it: same input and cache counts on every snapshot. */
function line(s: Snapshot, uuid: string): string {
  const value: Record<string, unknown> = {
    parentUuid: null, isSidechain: false, userType: "external", cwd: "/home/dev/src/app", sessionId: "s-1", version: s.version ?? "2.1.12",
    message: {
      id: s.messageId, type: "message", role: "assistant", model: "claude-sonnet-4-5-20250929", content: [{ type: "text", text: "…" }],
      stop_reason: s.stop ?? null, stop_sequence: null,
      usage: { input_tokens: 7, output_tokens: s.output, cache_read_input_tokens: 40_000, cache_creation_input_tokens: 1_200 },
    },
    type: "assistant", uuid, timestamp: s.at,
  };
  if (s.requestId !== undefined) value.requestId = s.requestId;
  if (s.costUSD !== undefined) value.costUSD = s.costUSD;
  return `${JSON.stringify(value)}\n`;
}

/**
 * Response A streams across midnight (first line 23:59:59.5 on 01-05, final on 01-06);
 * response B has no requestId; response C's last line has as many output tokens as the one
 * before it, but is the one with the stop reason.
 */
const LINES = [
  line({ messageId: "msg_A", requestId: "req_A", at: "2026-01-05T23:59:59.500Z", output: 3 }, "u1"),
  line({ messageId: "msg_A", requestId: "req_A", at: "2026-01-06T00:00:00.400Z", output: 6 }, "u2"),
  line({ messageId: "msg_A", requestId: "req_A", at: "2026-01-06T00:00:02.000Z", output: 512, stop: "end_turn" }, "u3"),
  line({ messageId: "msg_B", at: "2026-01-06T10:00:00.000Z", output: 2 }, "u4"),
  line({ messageId: "msg_B", at: "2026-01-06T10:00:03.000Z", output: 300, stop: "tool_use" }, "u5"),
  line({ messageId: "msg_C", requestId: "req_C", at: "2026-01-06T11:00:00.000Z", output: 9 }, "u6"),
  line({ messageId: "msg_C", requestId: "req_C", at: "2026-01-06T11:00:01.000Z", output: 40 }, "u7"),
  line({ messageId: "msg_C", requestId: "req_C", at: "2026-01-06T11:00:01.500Z", output: 40, stop: "end_turn" }, "u8"),
];

/** What the three responses must be stored as. */
const FINAL = [
  { id: "claude-code:msg:msg_B", created_at: Date.parse("2026-01-06T10:00:00.000Z"), output_tokens: 300, stop_reason: "tool_use" },
  { id: "claude-code:req_A:msg_A", created_at: Date.parse("2026-01-05T23:59:59.500Z"), output_tokens: 512, stop_reason: "end_turn" },
  { id: "claude-code:req_C:msg_C", created_at: Date.parse("2026-01-06T11:00:00.000Z"), output_tokens: 40, stop_reason: "end_turn" },
];

function setup(): { file: string; db: string } {
  const dir = join(tempDir(), "projects", "-home-dev-src-app");
  mkdirSync(dir, { recursive: true });
  return { file: join(dir, "s-1.jsonl"), db: join(tempDir(), "tally.db") };
}

async function importFile(store: SqliteStore, file: string, batchSize = 5000): Promise<ImportTranscriptsResult> {
  return importClaudeCodeTranscripts({ store, files: [file], batchSize });
}

function storedRows(db: string) {
  const sqlite = new Database(db, { readonly: true });
  const rows = sqlite.query("SELECT id, created_at, output_tokens, stop_reason FROM executions ORDER BY id").all();
  sqlite.close();
  return rows;
}

/** Every count and sum of the per-day rollups equals the raw rows' (`exact`). */
function expectRollupsEqualRaw(store: SqliteStore): void {
  const strip = (r: { rows: object[] }) => r.rows.map(({ p50DurationMs: _a, p95DurationMs: _b, ...rest }: any) => rest);
  const rollups = store.report({ kind: "usage", groupBy: ["day", "model"], range: {} });
  const raw = store.report({ kind: "usage", groupBy: ["day", "model"], range: {}, exact: true });
  expect(rollups.source).toBe("rollups");
  expect(raw.source).toBe("raw");
  expect(strip(rollups)).toEqual(strip(raw));
}

describe("a streamed response counts once, with its final snapshot, on its first line's day", () => {
  test("in one import", async () => {
    const { file, db } = setup();
    writeFileSync(file, LINES.join(""));
    const store = openSqliteStore({ path: db, retentionDays: 0 });
    const result = await importFile(store, file);
    expect([result.apiResponses, result.imported, result.updated, result.duplicates]).toEqual([8, 3, 0, 5]);
    expect(storedRows(db)).toEqual(FINAL);
    const days = store.report({ kind: "usage", groupBy: ["day"], range: {} }).rows.map((r) => [r.group.day, r.runs, r.outputTokens]);
    expect(days).toEqual([["2026-01-05", 1, 512], ["2026-01-06", 2, 340]]);
    // Cost is the final snapshot's: what the price table says for its tokens.
    const cost = store.report({ kind: "usage", groupBy: [], range: {} }).totals.costUsd;
    const pricer = createPricer();
    const priced = [512, 300, 40].reduce((sum, output) => sum + pricer.price({ provider: "anthropic", model: "claude-sonnet-4-5-20250929", createdAt: Date.parse("2026-01-06T00:00:00Z"), inputTokens: 7, outputTokens: output, cacheReadTokens: 40_000, cacheCreationTokens: 1_200 }).costUsd, 0);
    expect(cost).toBeCloseTo(priced, 12);
    expectRollupsEqualRaw(store);
    store.close();
  });

  test("split across two imports at every line boundary: the same rows and rollups; the same bytes again change nothing", async () => {
    for (let cut = 1; cut < LINES.length; cut++) {
      const { file, db } = setup();
      writeFileSync(file, LINES.slice(0, cut).join(""));
      const store = openSqliteStore({ path: db, retentionDays: 0 });
      const first = await importFile(store, file);
      appendFileSync(file, LINES.slice(cut).join(""));
      const second = await importFile(store, file);
      expect(storedRows(db)).toEqual(FINAL);
      expect(first.imported + second.imported).toBe(3);
      // Cut inside A (after line 1 or 2) or inside B (after 4) or C (after 6): that response is completed.
      expect(second.updated).toBe([1, 2, 4, 6, 7].includes(cut) ? 1 : 0);
      expectRollupsEqualRaw(store);
      const totals = store.report({ kind: "usage", groupBy: [], range: {} }).totals;
      expect([totals.runs, totals.outputTokens, totals.inputTokens, totals.cacheReadTokens]).toEqual([3, 852, 21, 120_000]);
      // The file is read again from the start (a fresh state): nothing changes.
      const again = await importClaudeCodeTranscripts({ store: { ...store, importState: () => undefined, importStates: undefined, write: store.write.bind(store) }, files: [file] });
      expect([again.imported, again.updated]).toEqual([0, 0]);
      expect(store.report({ kind: "usage", groupBy: [], range: {} }).totals).toEqual(totals);
      store.close();
    }
  });

  test("one line per batch: every later snapshot replaces the stored row, rollups corrected each time", async () => {
    const { file, db } = setup();
    writeFileSync(file, LINES.join(""));
    const store = openSqliteStore({ path: db, retentionDays: 0 });
    const result = await importFile(store, file, 1);
    expect(storedRows(db)).toEqual(FINAL);
    // A: 3 → 6 → 512 (two replacements); B: 2 → 300 (one); C: 9 → 40 → 40 with stop reason (two).
    expect([result.imported, result.updated]).toEqual([3, 5]);
    expectRollupsEqualRaw(store);
    store.close();
  });

  test("a final line's costUSD (older Claude Code) is the cost kept", async () => {
    const { file, db } = setup();
    writeFileSync(file, [
      line({ messageId: "msg_D", requestId: "req_D", at: "2026-01-07T09:00:00.000Z", output: 4, costUSD: 0.0121, version: "1.0.98" }, "d1"),
      line({ messageId: "msg_D", requestId: "req_D", at: "2026-01-07T09:00:01.000Z", output: 800, stop: "end_turn", costUSD: 0.0241, version: "1.0.98" }, "d2"),
    ].join(""));
    const store = openSqliteStore({ path: db, retentionDays: 0 });
    await importFile(store, file);
    const totals = store.report({ kind: "usage", groupBy: [], range: {} }).totals;
    expect([totals.runs, totals.outputTokens, totals.costUsd]).toEqual([1, 800, 0.0241]);
    store.close();
  });
});
