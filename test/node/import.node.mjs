// `tally import claude-code` as a Node user runs it: the BUILT bin (dist/cli/bin.js) under
// Node, writing through better-sqlite3. Hand-written transcript lines with known totals; the
// Bun suite covers the generated corpora and the comparison with ccusage.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { createPricer } from "tally/pricing";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(root, "dist/cli/bin.js");
const dir = mkdtempSync(join(tmpdir(), "tally-node-import-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const project = join(dir, "projects", "-home-dev-src-shop");
mkdirSync(project, { recursive: true });
const transcript = join(project, "session-1.jsonl");
const db = join(dir, "tally.db");

function response({ requestId, messageId, model, at, input, output, cacheRead = 0, cacheWrite = 0, costUSD, stop = "end_turn" }) {
  return JSON.stringify({
    type: "assistant", sessionId: "session-1", cwd: "/home/dev/src/shop", version: "2.0.31", uuid: `${messageId}-${output}`,
    timestamp: at, requestId, ...(costUSD === undefined ? {} : { costUSD }),
    message: {
      id: messageId, role: "assistant", model, content: [{ type: "text", text: "done" }], stop_reason: stop,
      usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheWrite },
    },
  });
}

const first = [
  JSON.stringify({ type: "user", sessionId: "session-1", timestamp: "2026-01-21T09:59:00Z", message: { role: "user", content: "fix the bug" } }),
  // One response streamed as two content-block lines: counted once, with the final line's usage.
  response({ requestId: "req_A", messageId: "msg_A", model: "claude-sonnet-4-5-20250929", at: "2026-01-21T10:00:00Z", input: 10, output: 5, cacheRead: 1000, cacheWrite: 200, stop: null }),
  response({ requestId: "req_A", messageId: "msg_A", model: "claude-sonnet-4-5-20250929", at: "2026-01-21T10:00:01Z", input: 10, output: 50, cacheRead: 1000, cacheWrite: 200 }),
  response({ requestId: "req_S", messageId: "msg_S", model: "<synthetic>", at: "2026-01-21T10:01:00Z", input: 0, output: 0 }),
  // An older Claude Code line with its own cost: kept as reported.
  response({ requestId: "req_B", messageId: "msg_B", model: "claude-opus-4-1-20250805", at: "2026-01-22T09:00:00Z", input: 100, output: 20, costUSD: 0.5 }),
  '{"type":"assistant","message":{"usage":',
].join("\n") + "\n";

function tally(...args) {
  return execFileSync(process.execPath, [bin, ...args, "--db", db], { cwd: dir, encoding: "utf8", env: { ...process.env, TALLY_DB: "" } });
}

function importJson() {
  return JSON.parse(tally("import", "claude-code", join(dir, "projects"), "--json"));
}

function days() {
  const report = JSON.parse(tally("report", "--by", "day", "--json"));
  return Object.fromEntries(report.rows.map((r) => [r.group.day, [r.runs, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheCreationTokens]]));
}

function costs() {
  const sqlite = new Database(db, { readonly: true });
  const rows = sqlite.prepare("SELECT id, model, created_at, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, cost_source FROM executions ORDER BY id").all();
  sqlite.close();
  return rows;
}

test("imports, deduplicates and prices under Node; a second run reads nothing; an append is read alone", () => {
  writeFileSync(transcript, first);
  const run1 = importJson();
  assert.equal(run1.imported, 2);
  assert.equal(run1.duplicates, 1);
  assert.equal(run1.ignored.synthetic, 1);
  assert.equal(run1.malformed.lines, 1);
  assert.deepEqual(run1.malformed.first, { path: transcript, line: 6 });
  assert.deepEqual(days(), { "2026-01-21": [1, 10, 50, 1000, 200], "2026-01-22": [1, 100, 20, 0, 0] });

  const pricer = createPricer();
  const priceOf = (r) => pricer.price({ provider: "anthropic", model: r.model, createdAt: r.created_at, inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheReadTokens: r.cache_read_tokens, cacheCreationTokens: r.cache_creation_tokens }).costUsd;
  const [a, b] = costs();
  assert.equal(a.cost_source, "computed");
  assert.ok(Math.abs(a.cost_usd - priceOf(a)) < 1e-12 && a.cost_usd > 0);
  assert.deepEqual([b.cost_source, b.cost_usd], ["reported", 0.5]);

  const run2 = importJson();
  assert.deepEqual([run2.imported, run2.bytesRead, run2.files.unchanged], [0, 0, 1]);

  // A response still streaming at import time: its partial snapshot now, its final one next time.
  const partial = `${response({ requestId: "req_C", messageId: "msg_C", model: "claude-sonnet-4-5-20250929", at: "2026-01-22T11:00:00Z", input: 7, output: 4, cacheRead: 5000, stop: null })}\n`;
  appendFileSync(transcript, partial);
  const run3 = importJson();
  assert.equal(run3.imported, 1);
  assert.equal(run3.bytesRead, Buffer.byteLength(partial), "only the appended bytes are read");
  assert.equal(run3.malformed.lines, 0, "the malformed line of the first run is not met again");
  assert.deepEqual(days()["2026-01-22"], [2, 107, 24, 5000, 0]);
  const final = `${response({ requestId: "req_C", messageId: "msg_C", model: "claude-sonnet-4-5-20250929", at: "2026-01-22T11:00:09Z", input: 7, output: 3000, cacheRead: 5000 })}\n`;
  appendFileSync(transcript, final);
  const run4 = importJson();
  assert.deepEqual([run4.imported, run4.updated], [0, 1]);
  assert.deepEqual(days()["2026-01-22"], [2, 107, 3020, 5000, 0]);
  const c = costs().find((r) => r.id.includes("req_C"));
  assert.ok(Math.abs(c.cost_usd - priceOf(c)) < 1e-12 && c.cost_usd > 0, "priced from the memo as from the price data");
});
