import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ExecutionRow } from "../../src/core/rows.ts";
import { openSqliteStore, type ImportFileState } from "../../src/store/sqlite/index.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

function state(overrides: Partial<ImportFileState> = {}): ImportFileState {
  return {
    source: "claude-code",
    path: "/tmp/a.jsonl",
    size: 100,
    mtimeMs: 1_700_000_000_123,
    offset: 90,
    headHash: "abc",
    lines: 3,
    malformed: 1,
    updatedAt: 1_700_000_000_999,
    ...overrides,
  };
}

function row(id: string): ExecutionRow {
  return {
    id, createdAt: 1_700_000_000_000, deliveryId: null, repo: "r", prNumber: null, eventType: "e", provider: "anthropic",
    model: "m", inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4, durationMs: 0, costUsd: 0,
    costSource: "unpriced", conclusion: "success", sessionId: null, numTurns: null, stopReason: null, attributes: null,
  };
}

describe("import state on the SQLite store", () => {
  test("a file never imported has no state; a saved state reads back equal, and a later save replaces it", () => {
    const store = openSqliteStore({ path: join(tempDir(), "t.db") });
    expect(store.importState("claude-code", "/tmp/a.jsonl")).toBeUndefined();
    expect(store.saveImportState(state())).toMatchObject({ ok: true, inserted: 0 });
    expect(store.importState("claude-code", "/tmp/a.jsonl")).toEqual(state());
    store.saveImportState(state({ offset: 100, lines: 4, headHash: null }));
    expect(store.importState("claude-code", "/tmp/a.jsonl")).toEqual(state({ offset: 100, lines: 4, headHash: null }));
    expect(store.importState("other-source", "/tmp/a.jsonl")).toBeUndefined();
    store.close();
  });

  test("write(batch, { importFiles }) commits rows and progress together", () => {
    const path = join(tempDir(), "t.db");
    const store = openSqliteStore({ path });
    const result = store.write([{ kind: "execution", row: row("x1") }], { importFiles: [state({ path: "/f1" }), state({ path: "/f2", offset: 7 })] });
    expect(result).toEqual({ ok: true, inserted: 1, duplicates: 0, duplicateIndexes: [], collisions: [], replaced: 0 });
    expect(store.importState("claude-code", "/f2")?.offset).toBe(7);
    store.close();
    const reopened = openSqliteStore({ path });
    expect(reopened.importState("claude-code", "/f1")?.offset).toBe(90);
    reopened.close();
  });

  test("a batch that fails leaves the progress where it was", () => {
    const store = openSqliteStore({ path: join(tempDir(), "t.db") });
    store.saveImportState(state({ offset: 10 }));
    // A negative token count violates a CHECK constraint: the whole transaction rolls back.
    const bad = { ...row("bad"), inputTokens: -1 };
    const result = store.write([{ kind: "execution", row: bad }], { importFiles: [state({ offset: 50 })] });
    expect(result.ok).toBe(false);
    expect(store.importState("claude-code", "/tmp/a.jsonl")?.offset).toBe(10);
    store.close();
  });

  test("a closed store answers undefined and a failed save, never a throw", () => {
    const store = openSqliteStore({ path: join(tempDir(), "t.db") });
    store.close();
    expect(store.importState("claude-code", "/x")).toBeUndefined();
    expect(store.saveImportState(state()).ok).toBe(false);
  });
});
