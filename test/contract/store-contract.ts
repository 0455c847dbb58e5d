/**
 * The SQLite-only contract (files, PRAGMAs, WAL, checkpoints, rollup rows, migrations), run on
 * bun:sqlite under Bun (test/unit/sqlite-contract.test.ts) and on better-sqlite3 under Node
 * against the built package (test/node/contract.node.mjs). What every store must do, whatever
 * keeps its data, is report-contract.ts.
 * It imports no test framework: the runner hands in `describe`/`test`; assertions are node:assert.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Batch, Logger, StoredRecord } from "tally";
import type { SqliteStore, SqliteStoreOptions } from "tally/sqlite";
import { cacheEvent, execution, rateLimitEvent, testId, toolCall } from "./rows.ts";

type Row = Record<string, unknown>;

/** A plain connection to the same file, to look at what the store wrote. */
export interface RawDb {
  all(sql: string, ...params: unknown[]): Row[];
  get(sql: string, ...params: unknown[]): Row | undefined;
  run(sql: string, ...params: unknown[]): void;
  close(): void;
}

export interface ContractSubject {
  name: string;
  describe(name: string, body: () => void): void;
  test(name: string, body: () => unknown | Promise<unknown>): void;
  openStore(options: SqliteStoreOptions): SqliteStore;
  openRaw(path: string): RawDb;
  /** A fresh, empty directory. */
  tempDir(): string;
  schemaVersion: number;
  /** Starts `processes` children that each write the same replay set to `path`; resolves when all exit 0. */
  replayInChildren(path: string, processes: number): Promise<void>;
  fixturesDir: string;
}

const DAY_MS = 86_400_000;

function collectingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const push = (_obj: object, msg?: string) => void messages.push(msg ?? "");
  return { messages, error: push, warn: push, info: push, debug: push };
}

export function storeContract(s: ContractSubject): void {
  const { describe, test } = s;

  function withStore<T>(body: (store: SqliteStore, raw: RawDb, path: string) => T, options: Partial<SqliteStoreOptions> = {}): T {
    const path = join(s.tempDir(), "nested", "dir", "tally.db");
    const store = s.openStore({ path, ...options });
    const raw = s.openRaw(path);
    try {
      return body(store, raw, path);
    } finally {
      raw.close();
      store.close();
    }
  }

  function write(store: SqliteStore, batch: Batch): number {
    const result = store.write(batch);
    assert.ok(result.ok, `write failed: ${result.ok ? "" : result.error.message}`);
    return result.inserted;
  }

  describe(`${s.name}: opening`, () => {
    test("creates the parent directory, WAL mode, and the current schema version", () => {
      withStore((store, raw, path) => {
        assert.ok(existsSync(path));
        assert.equal(store.unwritableReason, null);
        assert.equal(raw.get("PRAGMA journal_mode")?.journal_mode, "wal");
        assert.equal(raw.get("PRAGMA user_version")?.user_version, s.schemaVersion);
        assert.equal(store.schemaVersion, s.schemaVersion);
        assert.deepEqual(store.settings(), { journalMode: "wal", synchronous: 1, busyTimeoutMs: 5000 });
      });
    });

    test("has the tables, views and time-ordered indexes of the design, and no repo index", () => {
      withStore((_store, raw) => {
        const names = new Set(raw.all("SELECT name FROM sqlite_master").map((r) => r.name));
        for (const name of [
          "executions", "rate_limit_events", "tool_calls", "sessions", "cache_events", "daily_usage", "daily_tool_usage",
          "executions_v", "rate_limit_events_v", "tool_calls_v", "sessions_v", "cache_events_v",
          "idx_executions_created_at", "idx_rate_limit_events_created_at", "idx_tool_calls_created_at",
          "idx_sessions_created_at", "idx_cache_events_created_at", "idx_rate_limit_events_delivery_event",
        ]) assert.ok(names.has(name), `missing ${name}`);
        const composite = raw.get("SELECT sql FROM sqlite_master WHERE name = 'idx_rate_limit_events_delivery_event'");
        assert.match(String(composite?.sql), /UNIQUE INDEX idx_rate_limit_events_delivery_event\s+ON rate_limit_events \(delivery_id, event_type\) WHERE delivery_id IS NOT NULL/);
        const repoIndexes = raw.all("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(repo%'");
        assert.deepEqual(repoIndexes, []);
      });
    });

    test("a second open of the same file migrates nothing and keeps rows", () => {
      const path = join(s.tempDir(), "tally.db");
      const first = s.openStore({ path });
      write(first, [execution()]);
      first.close();
      const schemaOf = () => {
        const raw = s.openRaw(path);
        try {
          return {
            userVersion: raw.get("PRAGMA user_version")?.user_version,
            schemaCookie: raw.get("PRAGMA schema_version")?.schema_version,
            sql: raw.get("SELECT group_concat(sql) AS sql FROM sqlite_master")?.sql,
          };
        } finally {
          raw.close();
        }
      };
      const before = schemaOf();
      assert.equal(before.userVersion, s.schemaVersion);
      assert.match(String(before.sql), /CREATE TABLE executions/);
      const second = s.openStore({ path });
      const raw = s.openRaw(path);
      assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 1);
      raw.close();
      assert.deepEqual(schemaOf(), before, "user_version, schema cookie and every CREATE statement unchanged");
      second.close();
    });

    test("rejects impossible options with a typed error", () => {
      const path = join(s.tempDir(), "tally.db");
      assert.throws(() => s.openStore({ path, retentionDays: -1 }), /retentionDays/);
      assert.throws(() => s.openStore({ path: "" }), /path/);
    });
  });

  describe(`${s.name}: writing`, () => {
    test("stores every execution column as given", () => {
      withStore((store, raw) => {
        const record = execution({
          createdAt: Date.UTC(2026, 10, 20, 12, 0, 0, 123), deliveryId: "dlv-1", repo: "acme/api", prNumber: 42,
          eventType: "pull_request.opened", provider: "anthropic", model: "claude-sonnet-4-5", inputTokens: 1200,
          outputTokens: 300, cacheReadTokens: 50, cacheCreationTokens: 10, durationMs: 41000, costUsd: 0.0081,
          costSource: "reported", conclusion: "success", sessionId: "sess-1", numTurns: 5, stopReason: "end_turn",
          attributes: JSON.stringify({ attempt: 1 }),
        });
        assert.equal(write(store, [record]), 1);
        const row = raw.get("SELECT * FROM executions");
        const r = record.row as unknown as Record<string, unknown>;
        assert.deepEqual(row, {
          id: r.id, created_at: r.createdAt, delivery_id: "dlv-1", repo: "acme/api", pr_number: 42,
          event_type: "pull_request.opened", provider: "anthropic", model: "claude-sonnet-4-5", input_tokens: 1200,
          output_tokens: 300, cache_read_tokens: 50, cache_creation_tokens: 10, duration_ms: 41000, cost_usd: 0.0081,
          cost_source: "reported", conclusion: "success", session_id: "sess-1", num_turns: 5, stop_reason: "end_turn",
          attributes: '{"attempt":1}',
        });
        const view = raw.get("SELECT created_at_iso FROM executions_v");
        assert.equal(view?.created_at_iso, "2026-11-20T12:00:00.123Z");
      });
    });

    test("applies the column defaults the design names", () => {
      withStore((_store, raw) => {
        raw.run("INSERT INTO executions (id, created_at, model, conclusion) VALUES ('x', 1, 'm', 'success')");
        const row = raw.get("SELECT * FROM executions WHERE id = 'x'");
        assert.deepEqual(
          [row?.repo, row?.event_type, row?.provider, row?.input_tokens, row?.output_tokens, row?.cache_read_tokens,
            row?.cache_creation_tokens, row?.duration_ms, row?.cost_usd, row?.cost_source],
          ["", "", "anthropic", 0, 0, 0, 0, 0, 0, "reported"],
        );
      });
    });

    test("stores rate-limit events, tool calls, sessions and cache events column for column", () => {
      withStore((store, raw) => {
        const rle = rateLimitEvent({ deliveryId: "d", prNumber: 7, executionId: "e", limit: 30, remaining: 0, resetAt: 5000, retryAttempts: 3, skippedQueries: 2, degradation: "skipped" });
        const tool = toolCall({ sessionId: "s", executionId: "e", outcome: "tool_error", errorType: "timeout", inputBytes: 10, outputBytes: 20, durationMs: 99 });
        const cache = cacheEvent({ outcome: "miss", deliveryId: "d", eventType: "pull_request.opened", repo: "acme/api" });
        const inserted = write(store, [
          rle, tool, cache,
          { kind: "sessionStart", row: { id: "s", createdAt: 1000, source: "mcp", clientName: "claude-code", clientVersion: "2.1" } },
          { kind: "sessionEnd", row: { id: "s", endedAt: 2000 } },
        ]);
        assert.equal(inserted, 5);
        const r = raw.get("SELECT * FROM rate_limit_events");
        assert.deepEqual([r?.delivery_id, r?.pr_number, r?.execution_id, r?.resource, r?.limit, r?.remaining, r?.reset_at, r?.retry_attempts, r?.skipped_queries, r?.degradation],
          ["d", 7, "e", "search", 30, 0, 5000, 3, 2, "skipped"]);
        const t = raw.get("SELECT * FROM tool_calls");
        assert.deepEqual([t?.session_id, t?.execution_id, t?.server, t?.tool_name, t?.outcome, t?.error_type, t?.input_bytes, t?.output_bytes, t?.duration_ms],
          ["s", "e", "github", "search_code", "tool_error", "timeout", 10, 20, 99]);
        assert.deepEqual(raw.get("SELECT id, created_at, started_at, ended_at, source, client_name, client_version FROM sessions"),
          { id: "s", created_at: 1000, started_at: 1000, ended_at: 2000, source: "mcp", client_name: "claude-code", client_version: "2.1" });
        const c = raw.get("SELECT cache, outcome, delivery_id, event_type, repo FROM cache_events");
        assert.deepEqual(c, { cache: "search", outcome: "miss", delivery_id: "d", event_type: "pull_request.opened", repo: "acme/api" });
      });
    });

    test("ending a session twice keeps the first end", () => {
      withStore((store, raw) => {
        write(store, [{ kind: "sessionStart", row: { id: "s", createdAt: 1000, source: null, clientName: null, clientVersion: null } }]);
        assert.equal(write(store, [{ kind: "sessionEnd", row: { id: "s", endedAt: 2000 } }]), 1);
        assert.equal(write(store, [{ kind: "sessionEnd", row: { id: "s", endedAt: 3000 } }]), 0);
        assert.equal(raw.get("SELECT ended_at FROM sessions")?.ended_at, 2000);
      });
    });

    test("is idempotent: the same batch twice stores each row once and counts it once in the rollups", () => {
      withStore((store, raw) => {
        const batch = [execution(), execution(), toolCall(), cacheEvent(), rateLimitEvent()];
        assert.equal(write(store, batch), 5);
        assert.equal(write(store, batch), 0);
        assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 2);
        assert.equal(raw.get("SELECT count(*) AS n FROM tool_calls")?.n, 1);
        assert.equal(raw.get("SELECT count(*) AS n FROM cache_events")?.n, 1);
        assert.equal(raw.get("SELECT count(*) AS n FROM rate_limit_events")?.n, 1);
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_usage")?.n, 2);
        assert.equal(raw.get("SELECT length(duration_buckets) AS n FROM daily_usage")?.n, 8, "a replay does not grow the sketch");
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_model_usage")?.n, 2);
        assert.equal(raw.get("SELECT sum(calls) AS n FROM daily_tool_usage")?.n, 1);
      });
    });

    test("keeps one rate-limit row per (delivery_id, event_type), however many ids replay it", () => {
      withStore((store, raw) => {
        const same = { deliveryId: "dlv-9", eventType: "pull_request.opened" };
        assert.equal(write(store, [rateLimitEvent(same), rateLimitEvent(same)]), 1);
        assert.equal(write(store, [rateLimitEvent({ ...same, retryAttempts: 3 })]), 0);
        assert.equal(write(store, [rateLimitEvent({ deliveryId: "dlv-9", eventType: "issue_comment.created" })]), 1);
        assert.equal(write(store, [rateLimitEvent({ deliveryId: null }), rateLimitEvent({ deliveryId: null })]), 2);
        assert.equal(raw.get("SELECT count(*) AS n FROM rate_limit_events WHERE delivery_id = 'dlv-9'")?.n, 2);
        assert.equal(raw.get("SELECT retry_attempts FROM rate_limit_events WHERE delivery_id = 'dlv-9' AND event_type = 'pull_request.opened'")?.retry_attempts, 0);
      });
    });

    test("exactly once under concurrent replays from several processes", async () => {
      const path = join(s.tempDir(), "tally.db");
      s.openStore({ path }).close();
      await s.replayInChildren(path, 4);
      const raw = s.openRaw(path);
      try {
        assert.equal(raw.get("SELECT count(*) AS n FROM rate_limit_events")?.n, 100);
        assert.equal(raw.get("SELECT count(DISTINCT delivery_id || '|' || event_type) AS n FROM rate_limit_events")?.n, 100);
        assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 100);
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_usage")?.n, 100);
        assert.equal(raw.get("PRAGMA integrity_check")?.integrity_check, "ok");
      } finally {
        raw.close();
      }
    });

    test("rollups sum tokens, cost, unpriced runs and durations per day and dimension", () => {
      withStore((store, raw) => {
        const day = Date.UTC(2026, 10, 20, 8);
        write(store, [
          execution({ createdAt: day, inputTokens: 100, outputTokens: 10, cacheReadTokens: 5, cacheCreationTokens: 1, costUsd: 0.5, durationMs: 1000 }),
          execution({ createdAt: day + 3600_000, inputTokens: 200, outputTokens: 20, cacheReadTokens: 6, cacheCreationTokens: 2, costUsd: 0.25, durationMs: 3000 }),
          execution({ createdAt: day, model: "mystery", costUsd: 0, costSource: "unpriced" }),
          execution({ createdAt: day + DAY_MS, conclusion: "failure" }),
          toolCall({ createdAt: day, durationMs: 10 }),
          toolCall({ createdAt: day, durationMs: 30, outputBytes: null }),
        ]);
        const sonnet = raw.get("SELECT * FROM daily_usage WHERE day = '2026-11-20' AND model = 'claude-sonnet-4-5'");
        assert.deepEqual([sonnet?.runs, sonnet?.input_tokens, sonnet?.output_tokens, sonnet?.cache_read_tokens, sonnet?.cache_creation_tokens, sonnet?.duration_ms, sonnet?.unpriced_runs],
          [2, 300, 30, 11, 3, 4000, 0]);
        assert.ok(Math.abs(Number(sonnet?.cost_usd) - 0.75) < 1e-12);
        assert.equal(raw.get("SELECT unpriced_runs FROM daily_usage WHERE model = 'mystery'")?.unpriced_runs, 1);
        // The coarser rollup (day × repo × provider × model) holds the same sums, outcomes as columns.
        const coarse = raw.get("SELECT * FROM daily_model_usage WHERE day = '2026-11-20' AND model = 'claude-sonnet-4-5'");
        assert.deepEqual([coarse?.runs, coarse?.successes, coarse?.failures, coarse?.errors, coarse?.input_tokens, coarse?.duration_ms],
          [2, 2, 0, 0, 300, 4000]);
        assert.equal(raw.get("SELECT failures FROM daily_model_usage WHERE day = '2026-11-21'")?.failures, 1);
        for (const column of ["runs", "input_tokens", "output_tokens", "cache_read_tokens", "unpriced_runs", "duration_ms"]) {
          assert.equal(raw.get(`SELECT sum(${column}) AS n FROM daily_model_usage`)?.n, raw.get(`SELECT sum(${column}) AS n FROM daily_usage`)?.n, column);
        }
        assert.equal(raw.get("SELECT runs FROM daily_usage WHERE day = '2026-11-21' AND conclusion = 'failure'")?.runs, 1);
        const tools = raw.get("SELECT calls, duration_ms, input_bytes, output_bytes FROM daily_tool_usage");
        assert.deepEqual(tools, { calls: 2, duration_ms: 40, input_bytes: 128, output_bytes: 2048 });
        // Durations 1000 and 3000 ms fall in two log buckets of the same group's sketch:
        // (bucket, count) little-endian uint32 pairs.
        const sketch = raw.get("SELECT duration_buckets AS b FROM daily_usage WHERE day = '2026-11-20' AND model = 'claude-sonnet-4-5'")?.b as Uint8Array;
        const view = new DataView(sketch.buffer, sketch.byteOffset, sketch.byteLength);
        assert.equal(sketch.byteLength, 16);
        assert.deepEqual([view.getUint32(4, true), view.getUint32(12, true)], [1, 1]);
        assert.ok(view.getUint32(0, true) < view.getUint32(8, true));
        const toolSketch = raw.get("SELECT duration_buckets AS b FROM daily_tool_usage")?.b as Uint8Array;
        assert.equal(toolSketch.byteLength, 16, "10 ms and 30 ms: two buckets");
      });
    });

    test("two connections writing the same rollup rows in turn keep every duration in the sketches", () => {
      const path = join(s.tempDir(), "tally.db");
      const a = s.openStore({ path });
      const b = s.openStore({ path });
      const day = Date.UTC(2026, 10, 20, 9);
      try {
        write(a, [execution({ createdAt: day }), execution({ createdAt: day }), execution({ createdAt: day })]);
        write(b, [execution({ createdAt: day }), execution({ createdAt: day })]);
        write(a, [execution({ createdAt: day })]);
        write(b, [execution({ createdAt: day }), toolCall({ createdAt: day })]);
        write(a, [toolCall({ createdAt: day })]);
      } finally {
        a.close();
        b.close();
      }
      const raw = s.openRaw(path);
      try {
        const total = (blob: unknown) => {
          const bytes = blob as Uint8Array;
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          let n = 0;
          for (let offset = 4; offset < bytes.byteLength; offset += 8) n += view.getUint32(offset, true);
          return n;
        };
        for (const table of ["daily_usage", "daily_model_usage"]) {
          const row = raw.get(`SELECT runs, duration_buckets FROM ${table}`);
          assert.equal(row?.runs, 7, table);
          assert.equal(total(row?.duration_buckets), 7, `${table} sketch counts every run`);
        }
        assert.equal(total(raw.get("SELECT duration_buckets FROM daily_tool_usage")?.duration_buckets), 2);
      } finally {
        raw.close();
      }
    });

    test("a refused row rejects its batch as a whole, atomically, and names no values", () => {
      withStore((store, raw) => {
        const bad = execution({ inputTokens: -5, repo: "secret-prompt-text" });
        const result = store.write([execution(), bad]);
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.failure, "rejected");
        assert.doesNotMatch(result.error.message, /secret-prompt-text/);
        assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 0);
        assert.equal(raw.get("SELECT count(*) AS n FROM daily_usage")?.n, 0);
      });
    });

    test("after close() writes fail as 'failed' and nothing throws", () => {
      const path = join(s.tempDir(), "tally.db");
      const store = s.openStore({ path });
      store.close();
      store.close();
      const result = store.write([execution()]);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.failure, "failed");
      assert.equal(store.purgeOlderThan(1), 0);
      store.checkpoint();
    });
  });

  describe(`${s.name}: retention`, () => {
    test("purgeOlderThan deletes back-dated raw rows of every table, keeps recent ones and the rollups, and counts", () => {
      const now = Date.UTC(2026, 10, 22, 12);
      withStore((store, raw) => {
        const old = now - 100 * DAY_MS;
        const recent = now - 10 * DAY_MS;
        const batch: StoredRecord[] = [];
        for (let i = 0; i < 2500; i++) batch.push(execution({ createdAt: old + i }));
        write(store, batch);
        write(store, [
          execution({ createdAt: recent }), toolCall({ createdAt: old }), toolCall({ createdAt: recent }),
          cacheEvent({ createdAt: old }), rateLimitEvent({ createdAt: old }),
          { kind: "sessionStart", row: { id: "old-session", createdAt: old, source: null, clientName: null, clientVersion: null } },
        ]);
        assert.equal(store.purgeOlderThan(90), 2500 + 4);
        assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 1);
        assert.equal(raw.get("SELECT count(*) AS n FROM tool_calls")?.n, 1);
        assert.equal(raw.get("SELECT count(*) AS n FROM sessions")?.n, 0);
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_usage")?.n, 2501, "rollups keep purged days");
        assert.equal(store.purgeOlderThan(90), 0);
      }, { now: () => now, retentionDays: 0 });
    });

    test("rollups have their own, longer retention", () => {
      const now = Date.UTC(2026, 10, 22, 12);
      withStore((store, raw) => {
        write(store, [execution({ createdAt: now - 500 * DAY_MS }), execution({ createdAt: now - 300 * DAY_MS })]);
        store.purgeOlderThan(90);
        assert.equal(raw.get("SELECT count(*) AS n FROM daily_usage")?.n, 1);
      }, { now: () => now, retentionDays: 0 });
    });

    test("by default (no retentionDays) purges raw rows older than 90 days at open, and keeps an 89-day-old one", () => {
      const now = Date.UTC(2026, 10, 22, 12);
      const path = join(s.tempDir(), "tally.db");
      const first = s.openStore({ path, retentionDays: 0, now: () => now });
      const kept = execution({ createdAt: now - 89 * DAY_MS });
      write(first, [
        execution({ createdAt: now - 91 * DAY_MS }),
        execution({ createdAt: now - 90 * DAY_MS - 3_600_000 }),
        kept,
      ]);
      first.close();
      const before = s.openRaw(path);
      assert.equal(before.get("SELECT count(*) AS n FROM executions")?.n, 3, "retentionDays: 0 purged nothing");
      before.close();
      s.openStore({ path, now: () => now }).close();
      const raw = s.openRaw(path);
      try {
        assert.deepEqual(raw.all("SELECT id FROM executions").map((r) => r.id), [kept.row.id]);
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_usage")?.n, 3, "the rollups keep the purged runs");
      } finally {
        raw.close();
      }
    });

    test("purges at open when retentionDays is set", () => {
      const now = Date.UTC(2026, 10, 22, 12);
      const path = join(s.tempDir(), "tally.db");
      const first = s.openStore({ path, retentionDays: 0 });
      write(first, [execution({ createdAt: now - 40 * DAY_MS }), execution({ createdAt: now - DAY_MS })]);
      first.close();
      s.openStore({ path, retentionDays: 30, now: () => now }).close();
      const raw = s.openRaw(path);
      assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 1);
      raw.close();
    });
  });

  describe(`${s.name}: checkpoints`, () => {
    test("checkpoint() moves the write-ahead log into the database file", () => {
      withStore((store, _raw, path) => {
        write(store, Array.from({ length: 300 }, () => execution({ attributes: JSON.stringify({ pad: "x".repeat(200) }) })));
        const before = statSync(path).size;
        store.checkpoint();
        assert.ok(statSync(path).size > before, "database file grew as WAL frames were copied back");
      }, { checkpointEveryRows: 0 });
    });

    test("checkpoints on its own after checkpointEveryRows inserted rows, on this thread when asked", () => {
      withStore((store, _raw, path) => {
        const sizeAfterOpen = statSync(path).size;
        for (let i = 0; i < 6; i++) write(store, Array.from({ length: 50 }, () => execution()));
        assert.ok(statSync(path).size > sizeAfterOpen);
        assert.equal(store.backgroundCheckpoints, 0);
      }, { checkpointEveryRows: 100, checkpointInBackground: false });
    });

    test("by default a PASSIVE checkpoint runs after every 1000 inserted rows", () => {
      withStore((store, _raw, path) => {
        const sizeAfterOpen = statSync(path).size;
        // 999 rows in batches (few transactions, so SQLite's own page-count autocheckpoint stays far off).
        for (const size of [250, 250, 250, 249]) write(store, Array.from({ length: size }, () => execution()));
        assert.equal(statSync(path).size, sizeAfterOpen, "999 rows: still only in the WAL");
        write(store, [execution()]);
        assert.ok(statSync(path).size > sizeAfterOpen, "the 1000th row checkpointed into the database file");
        assert.equal(store.backgroundCheckpoints, 0);
      }, { checkpointInBackground: false });
    });

    test("by default the automatic checkpoints run on a worker thread with its own connection", async () => {
      const path = join(s.tempDir(), "tally.db");
      const store = s.openStore({ path, checkpointEveryRows: 100 });
      try {
        const sizeAfterOpen = statSync(path).size;
        for (let i = 0; i < 6; i++) write(store, Array.from({ length: 50 }, () => execution()));
        for (let wait = 0; wait < 250 && store.backgroundCheckpoints === 0; wait++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(store.backgroundCheckpoints > 0, "the worker checkpointed");
        assert.ok(statSync(path).size > sizeAfterOpen, "and WAL frames reached the database file");
        write(store, [execution()]); // the writer was never blocked
      } finally {
        store.close();
      }
      const raw = s.openRaw(path);
      assert.equal(raw.get("SELECT count(*) AS n FROM executions")?.n, 301);
      assert.equal(raw.get("PRAGMA integrity_check")?.integrity_check, "ok");
      raw.close();
    });
  });

  describe(`${s.name}: a checkpoint worker started lazily`, () => {
    test("starts no worker until the first automatic checkpoint is due, then checkpoints there", async () => {
      const started: string[] = [];
      const logger: Logger = {
        error() {},
        warn() {},
        info() {},
        debug: (_fields, message) => void (message?.includes("worker thread") && started.push(message)),
      };
      const eager = s.openStore({ path: join(s.tempDir(), "eager.db"), checkpointEveryRows: 100, logger });
      eager.close();
      assert.equal(started.length, 1, "by default the worker starts at open (and says so)");

      const path = join(s.tempDir(), "tally.db");
      const store = s.openStore({ path, checkpointEveryRows: 100, checkpointInBackground: "lazily", logger });
      try {
        write(store, Array.from({ length: 99 }, () => execution()));
        assert.equal(started.length, 1, "no worker below the threshold");
        write(store, Array.from({ length: 50 }, () => execution()));
        assert.equal(started.length, 2, "started at the threshold");
        for (let wait = 0; wait < 250 && store.backgroundCheckpoints === 0; wait++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(store.backgroundCheckpoints > 0, "and the checkpoint ran there");
      } finally {
        store.close();
      }
    });
  });

  describe(`${s.name}: schema versions`, () => {
    test("migrates a pre-versioned review-bot database additively: rows kept, composite index in place", () => {
      const path = join(s.tempDir(), "legacy.db");
      copyFileSync(join(s.fixturesDir, "legacy-v0.db"), path);
      const store = s.openStore({ path, retentionDays: 0 });
      const raw = s.openRaw(path);
      try {
        assert.equal(store.unwritableReason, null);
        assert.equal(raw.get("PRAGMA user_version")?.user_version, s.schemaVersion);
        const rows = raw.all("SELECT id, created_at, delivery_id, repo, model, input_tokens, cost_usd, conclusion FROM executions ORDER BY created_at");
        assert.deepEqual(rows.map((r) => [r.id, r.created_at, r.delivery_id, r.repo, r.input_tokens, r.conclusion]), [
          ["legacy-executions-1", Date.UTC(2026, 10, 1, 10), "dlv-1", "acme/api", 1200, "success"],
          ["legacy-executions-2", Date.UTC(2026, 10, 1, 11, 30), "dlv-2", "acme/api", 800, "failure"],
          ["legacy-executions-3", Date.UTC(2026, 10, 2, 9, 15, 30), "dlv-3", "acme/web", 5000, "error"],
        ]);
        assert.equal(raw.get("SELECT count(*) AS n FROM legacy_executions")?.n, 3, "old rows are kept, not dropped");
        const degraded = raw.all("SELECT delivery_id, event_type, retry_attempts, skipped_queries, degradation, attributes FROM rate_limit_events ORDER BY created_at");
        assert.deepEqual(degraded, [
          { delivery_id: "dlv-1", event_type: "pull_request.opened", retry_attempts: 3, skipped_queries: 2, degradation: "partial", attributes: '{"cache_hit_rate":0.5}' },
          { delivery_id: "dlv-3", event_type: "pull_request.synchronize", retry_attempts: 3, skipped_queries: 4, degradation: "skipped", attributes: '{"cache_hit_rate":null}' },
        ]);
        const indexes = new Set(raw.all("SELECT name FROM sqlite_master WHERE type = 'index'").map((r) => r.name));
        assert.ok(indexes.has("idx_rate_limit_events_delivery_event"));
        assert.ok(!indexes.has("idx_rate_limit_events_delivery"), "the delivery-only unique index is gone");
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_usage")?.n, 3);
        assert.equal(raw.get("SELECT sum(runs) AS n FROM daily_model_usage")?.n, 3);
        assert.equal(raw.get("SELECT count(*) AS n FROM daily_usage WHERE duration_buckets IS NULL")?.n, 0, "legacy rows get sketches too");
        // The composite rule now holds: a second event type for the same delivery is its own row.
        assert.equal(write(store, [rateLimitEvent({ deliveryId: "dlv-1", eventType: "issue_comment.created" })]), 1);
        assert.equal(write(store, [rateLimitEvent({ deliveryId: "dlv-1", eventType: "pull_request.opened" })]), 0);
      } finally {
        raw.close();
        store.close();
      }
      // Opening again is a no-op: nothing copied twice.
      s.openStore({ path, retentionDays: 0 }).close();
      const again = s.openRaw(path);
      assert.equal(again.get("SELECT count(*) AS n FROM executions")?.n, 3);
      again.close();
    });

    test("a database newer than the code opens read-only with a clear message and is left as it was", () => {
      const path = join(s.tempDir(), "tally.db");
      const first = s.openStore({ path });
      write(first, [execution()]);
      first.close();
      const raw = s.openRaw(path);
      raw.run(`PRAGMA user_version = ${s.schemaVersion + 5}`);
      raw.close();
      const logger = collectingLogger();
      const store = s.openStore({ path, logger });
      try {
        assert.match(String(store.unwritableReason), /newer than this Tally/);
        assert.ok(logger.messages.some((m) => /read-only/.test(m)), "the refusal is logged");
        const result = store.write([execution()]);
        assert.equal(!result.ok && result.failure, "failed");
        assert.equal(store.purgeOlderThan(0), 0);
      } finally {
        store.close();
      }
      const after = s.openRaw(path);
      assert.equal(after.get("PRAGMA user_version")?.user_version, s.schemaVersion + 5);
      assert.equal(after.get("SELECT count(*) AS n FROM executions")?.n, 1);
      after.close();
    });

    test("readonly: true writes nothing and says why", () => {
      const path = join(s.tempDir(), "tally.db");
      s.openStore({ path }).close();
      const store = s.openStore({ path, readonly: true });
      const result = store.write([execution({ id: testId("ro") })]);
      assert.equal(!result.ok && result.failure, "failed");
      assert.match(String(store.unwritableReason), /read-only/);
      store.close();
    });
  });
}
