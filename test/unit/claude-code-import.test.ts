import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findTranscriptFiles } from "../../src/capture/claude-code/find-files.ts";
import { importClaudeCodeTranscripts, PRICE_MEMO_KEY, type ImportTranscriptsResult } from "../../src/capture/claude-code/import-transcripts.ts";
import { parsePriceMemo } from "../../src/pricing/price-memo.ts";
import { priceDataVersion } from "../../src/pricing/lazy-price-data.ts";
import { createPricer } from "../../src/pricing/pricer.ts";
import { ImportWriteError, type ImportTarget } from "../../src/capture/claude-code/batch-sink.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { generateTranscripts, type DayTotals, ExpectedTotals, Randomness, SessionLines } from "../fixtures/claude-code/generate-transcripts.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

function newStore(): SqliteStore {
  return openSqliteStore({ path: join(tempDir(), "tally.db"), retentionDays: 0 });
}

/** Per-day totals as `tally report --by day` computes them (from the rollups). */
function reportedDays(store: SqliteStore): Map<string, DayTotals> {
  const report = store.report({ kind: "usage", groupBy: ["day"], range: {} });
  return new Map(
    report.rows.map((r) => [
      r.group.day!,
      { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheCreationTokens: r.cacheCreationTokens, responses: r.runs },
    ]),
  );
}

function sorted(days: Map<string, DayTotals>): [string, DayTotals][] {
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b));
}

async function importDirs(store: ImportTarget, ...dirs: string[]): Promise<ImportTranscriptsResult> {
  const found = await findTranscriptFiles(dirs);
  expect(found.problems).toEqual([]);
  return importClaudeCodeTranscripts({ store, files: found.files, batchSize: 100 });
}

describe("importing a generated transcript folder", () => {
  test("totals per day are exact: duplicated blocks once, side chains and subagents in, <synthetic> out, malformed lines counted", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), damage: true, seed: 7 });
    const store = newStore();
    const result = await importDirs(store, corpus.projectsDir);
    expect(sorted(reportedDays(store))).toEqual(sorted(corpus.expected.days));
    expect(result.imported).toBe(corpus.expected.responses);
    expect(result.apiResponses).toBe(corpus.expected.responseLines);
    expect(result.duplicates).toBe(corpus.expected.responseLines - corpus.expected.responses);
    expect(result.ignored.synthetic).toBe(corpus.expected.synthetic);
    expect(result.malformed.lines).toBe(corpus.expected.malformed);
    expect(result.malformed.first?.path).toEndWith("damaged-session.jsonl");
    expect(result.linesRead).toBe(corpus.expected.lines);
    expect(result.files).toEqual({ found: corpus.files.length, read: corpus.files.length, unchanged: 0, reread: 0, failed: 0 });
    // The trailing partial line of the damaged file is read but not consumed.
    expect(result.bytesRead).toBe(corpus.bytes);
    store.close();
  });

  test("importing the same folder again reads nothing and changes no total", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), damage: true, seed: 8 });
    const store = newStore();
    await importDirs(store, corpus.projectsDir);
    const again = await importDirs(store, corpus.projectsDir);
    expect(again).toMatchObject({ bytesRead: 0, linesRead: 0, imported: 0, files: { unchanged: corpus.files.length, read: 0 } });
    expect(sorted(reportedDays(store))).toEqual(sorted(corpus.expected.days));
    store.close();
  });

  test("two overlapping copies of a folder (two machines) count once", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 9 });
    const copy = join(tempDir(), "projects");
    cpSync(corpus.projectsDir, copy, { recursive: true });
    const store = newStore();
    const result = await importDirs(store, corpus.projectsDir, copy);
    expect(result.imported).toBe(corpus.expected.responses);
    expect(result.duplicates).toBe(2 * corpus.expected.responseLines - corpus.expected.responses);
    expect(sorted(reportedDays(store))).toEqual(sorted(corpus.expected.days));
    store.close();
  });

  test("a file reached twice (symlinked folder) is read once", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 10, projects: 1, sessionsPerProject: 1 });
    const link = join(tempDir(), "link");
    symlinkSync(corpus.projectsDir, link);
    const store = newStore();
    const result = await importDirs(store, corpus.projectsDir, link);
    expect(result.files.found).toBe(corpus.files.length);
    expect(result.duplicates).toBe(corpus.expected.responseLines - corpus.expected.responses);
    store.close();
  });
});

describe("incremental import", () => {
  function session(dir: string, expected: ExpectedTotals, seed = 3) {
    return new SessionLines({
      random: new Randomness(seed), expected, sessionId: "s-1", cwd: "/home/dev/src/app", version: "2.0.14",
      model: "claude-sonnet-4-5-20250929", startMs: Date.UTC(2026, 1, 1, 23), toolOutputBytes: 800, variety: true,
    });
  }

  test("a file that grows is read from where the last import stopped; a half-written line waits for its newline", async () => {
    const dir = join(tempDir(), "projects", "-home-dev-src-app");
    const path = join(dir, "s-1.jsonl");
    const expected = new ExpectedTotals();
    const lines = session(dir, expected);
    mkdirSync(dir, { recursive: true });
    const first = lines.turn() + lines.turn();
    writeFileSync(path, first);
    const store = newStore();
    const r1 = await importDirs(store, dir);
    expect(r1.bytesRead).toBe(Buffer.byteLength(first));

    const more = lines.turn() + lines.turn();
    const cut = more.lastIndexOf("\n", more.length - 2) + 20; // the last line only partly written
    appendFileSync(path, more.slice(0, cut));
    const r2 = await importDirs(store, dir);
    expect(r2.bytesRead).toBe(cut);
    const consumed = more.lastIndexOf("\n", more.length - 2) + 1;
    expect(r2.linesRead).toBe(more.slice(0, consumed).split("\n").length - 1);

    appendFileSync(path, more.slice(cut));
    const r3 = await importDirs(store, dir);
    expect(r3.bytesRead).toBe(Buffer.byteLength(more) - consumed);
    expect(r3.linesRead).toBe(1);
    expect(r1.linesRead + r2.linesRead + r3.linesRead).toBe(expected.lines);
    expect(r1.imported + r2.imported + r3.imported).toBe(expected.responses);
    expect(sorted(reportedDays(store))).toEqual(sorted(expected.days));
    // Line numbers continue across runs.
    expect(store.importState("claude-code", path)?.lines).toBe(expected.lines);
    store.close();
  });

  test("a file that shrank or was rewritten is read again from the start, without double counting", async () => {
    const dir = join(tempDir(), "projects", "-home-dev-src-app");
    const path = join(dir, "s-1.jsonl");
    const expected = new ExpectedTotals();
    const lines = session(dir, expected);
    mkdirSync(dir, { recursive: true });
    const text = lines.turn() + lines.turn() + lines.turn();
    writeFileSync(path, text);
    const store = newStore();
    await importDirs(store, dir);

    truncateSync(path, text.indexOf("\n") + 1);
    const shrunk = await importDirs(store, dir);
    expect(shrunk.files.reread).toBe(1);
    expect(shrunk.imported).toBe(0);

    // Different first bytes: a different file now lives at this path.
    const other = new ExpectedTotals();
    const replaced = session(dir, other, 99).turn();
    writeFileSync(path, replaced);
    const rewritten = await importDirs(store, dir);
    expect(rewritten.files.reread).toBe(1);
    expect(rewritten.bytesRead).toBe(Buffer.byteLength(replaced));
    expect(rewritten.imported).toBe(other.responses);
    store.close();
  });

  test("a failed write saves neither its rows nor its progress; the next run resumes and totals are exact", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 11 });
    const store = newStore();
    let writes = 0;
    const failing: ImportTarget = {
      importState: (source, path) => store.importState(source, path),
      write(batch, options) {
        if (++writes === 3) return { ok: false, failure: "failed", error: new Error("disk full") };
        return store.write(batch, options);
      },
    };
    const found = await findTranscriptFiles([corpus.projectsDir]);
    await expect(importClaudeCodeTranscripts({ store: failing, files: found.files, batchSize: 50 })).rejects.toBeInstanceOf(ImportWriteError);
    const partial = store.report({ kind: "usage", groupBy: [], range: {} }).totals.runs;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(corpus.expected.responses);

    const resumed = await importClaudeCodeTranscripts({ store, files: found.files, batchSize: 50 });
    expect(resumed.imported).toBe(corpus.expected.responses - partial);
    expect(sorted(reportedDays(store))).toEqual(sorted(corpus.expected.days));
    store.close();
  });
});

describe("files that cannot be read", () => {
  test("are reported and skipped; the others are imported", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 12, projects: 1, sessionsPerProject: 2, variety: false });
    const store = newStore();
    const missing = join(corpus.projectsDir, "gone.jsonl");
    const result = await importClaudeCodeTranscripts({ store, files: [missing, ...corpus.files] });
    expect(result.errors).toEqual([{ path: missing, message: "no such file or directory" }]);
    expect(result.files.failed).toBe(1);
    expect(result.imported).toBe(corpus.expected.responses);
    store.close();
  });
});

describe("after a purge", () => {
  test("a copy of purged transcripts is not counted again: the rollups keep the first count", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 21 });
    // Ages are measured from just after the corpus (January 2026), not from today: on the real
    // clock the rollups themselves would pass their 400-day retention in February 2027.
    const store = openSqliteStore({ path: join(tempDir(), "tally.db"), retentionDays: 0, now: () => Date.parse("2026-02-01T00:00:00Z") });
    const first = await importDirs(store, corpus.projectsDir);
    expect(first.imported).toBe(corpus.expected.responses);
    const before = sorted(reportedDays(store));
    // Every raw row goes (a cut-off in the future); the daily rollups stay.
    expect(store.purgeOlderThan(0)).toBeGreaterThanOrEqual(corpus.expected.responses);
    expect(store.executionsPurgedBefore()).not.toBeNull();
    const copy = join(tempDir(), "projects");
    cpSync(corpus.projectsDir, copy, { recursive: true });
    const second = await importDirs(store, copy);
    expect(second.imported).toBe(0);
    expect(second.olderThanPurged).toBe(corpus.expected.responseLines);
    expect(sorted(reportedDays(store))).toEqual(before);
    store.close();
  });

  test("with no purge there is no watermark and nothing is held back", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 22 });
    const store = newStore();
    const result = await importDirs(store, corpus.projectsDir);
    expect(store.executionsPurgedBefore()).toBeNull();
    expect(result.olderThanPurged).toBe(0);
    store.close();
  });
});

describe("prices", () => {
  /** Every priced row's cost against a pricer that reads the price data itself. */
  function expectCostsAsPriceData(db: string): number {
    const sqlite = new Database(db, { readonly: true });
    const rows = sqlite
      .query("SELECT provider, model, created_at, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd FROM executions WHERE cost_source = 'computed'")
      .all() as Record<string, number | string>[];
    sqlite.close();
    const reference = createPricer();
    for (const r of rows) {
      const expected = reference.price({
        provider: String(r.provider), model: String(r.model), createdAt: Number(r.created_at), inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens), cacheReadTokens: Number(r.cache_read_tokens), cacheCreationTokens: Number(r.cache_creation_tokens),
      });
      expect(Math.abs(Number(r.cost_usd) - expected.costUsd)).toBeLessThan(1e-12);
    }
    return rows.length;
  }

  test("the import keeps its models' prices in the store; a later run prices from them, exactly, without loading the price data", async () => {
    const dir = join(tempDir(), "projects", "-home-dev-src-app");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "s-1.jsonl");
    const lines = new SessionLines({
      random: new Randomness(5), expected: new ExpectedTotals(), sessionId: "s-1", cwd: "/home/dev/src/app", version: "2.0.14",
      model: "claude-sonnet-4-5-20250929", startMs: Date.UTC(2026, 1, 1, 9), toolOutputBytes: 800, variety: false,
    });
    writeFileSync(path, lines.turn() + lines.turn());
    const db = join(tempDir(), "tally.db");
    const store = openSqliteStore({ path: db, retentionDays: 0 });
    await importDirs(store, dir);
    const memo = parsePriceMemo(store.meta(PRICE_MEMO_KEY));
    expect(memo?.data).toBe(priceDataVersion());
    expect(Object.keys(memo!.entries)).toContain("anthropic\u0000claude-sonnet-4-5-20250929");
    store.close();
    const firstRows = expectCostsAsPriceData(db);
    expect(firstRows).toBeGreaterThan(0);

    appendFileSync(path, lines.turn() + lines.turn());
    const script = `
      const { openSqliteStore } = await import("./src/store/sqlite/index.ts");
      const { importClaudeCodeTranscripts } = await import("./src/capture/claude-code/import-transcripts.ts");
      const store = openSqliteStore({ path: ${JSON.stringify(db)}, retentionDays: 0 });
      const result = await importClaudeCodeTranscripts({ store, files: [${JSON.stringify(path)}] });
      store.close();
      const loaded = Object.keys(require.cache).some((k) => k.includes("genai-prices"));
      console.log(JSON.stringify({ imported: result.imported, loaded }));`;
    const child = spawnSync(process.execPath, ["-e", script], { cwd: join(import.meta.dir, "../.."), encoding: "utf8" });
    expect(child.stderr).toBe("");
    const later = JSON.parse(child.stdout) as { imported: number; loaded: boolean };
    expect(later.imported).toBeGreaterThan(0);
    expect(later.loaded).toBe(false);
    expect(expectCostsAsPriceData(db)).toBe(firstRows + later.imported);
  });

  test("a damaged memo in the store is ignored and replaced; prices are unaffected", async () => {
    const corpus = generateTranscripts({ configDir: tempDir(), seed: 24, projects: 2 });
    const db = join(tempDir(), "tally.db");
    const store = openSqliteStore({ path: db, retentionDays: 0 });
    expect(store.setMeta(PRICE_MEMO_KEY, '{"data":"genai-prices@0.1.8","entries":{"anthropic\\u0000x":{"priced":true}}')).toBe(true);
    await importDirs(store, corpus.projectsDir);
    expect(parsePriceMemo(store.meta(PRICE_MEMO_KEY))?.data).toBe(priceDataVersion());
    store.close();
    expect(expectCostsAsPriceData(db)).toBeGreaterThan(0);
  });
});
