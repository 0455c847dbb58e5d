// tally serve and the http store under Node, from the built package: node:http through
// @hono/node-server, better-sqlite3, and the bin's graceful SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(join(tmpdir(), "tally-node-serve-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("startServer on node:http: the http store writes, the read API reads", async () => {
  const { startServer } = await import("tally/server");
  const { openHttpStore } = await import("tally/http");
  const { openSqliteStore } = await import("tally/sqlite");
  const { createTelemetry } = await import("tally");
  const store = openSqliteStore({ path: join(dir, "lib.db"), retentionDays: 0 });
  assert.equal(store.driverName, "better-sqlite3");
  const running = await startServer({ store, port: 0 });
  try {
    const telemetry = createTelemetry({ store: openHttpStore({ url: running.url }), flushOnExit: false });
    telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 1000, outputTokens: 100 });
    telemetry.recordToolCall({ toolName: "search", outcome: "ok", durationMs: 5 });
    await telemetry.shutdown();
    assert.equal(telemetry.stats().written, 2);
    const runs = await (await fetch(`${running.url}/api/v1/runs`)).json();
    assert.equal(runs.runs.length, 1);
    assert.equal(runs.runs[0].costSource, "computed");
    const usage = await (await fetch(`${running.url}/api/v1/reports/usage?by=repo`)).json();
    assert.equal(usage.totals.runs, 1);
    assert.deepEqual(usage.rows.map((r) => r.group.repo), ["acme/api"]);
    const bad = await fetch(`${running.url}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    assert.equal(bad.status, 400);
  } finally {
    await running.close();
    store.close();
  }
});

test("the built bin: tally serve commits what it acknowledged and exits 0 on SIGTERM", async () => {
  const db = join(dir, "bin.db");
  const child = spawn(process.execPath, [join(root, "dist/cli/bin.js"), "serve", "--db", db, "--port", "0", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const line = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.split("\n")[0]);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const { url } = JSON.parse(line);
  const records = Array.from({ length: 100 }, (_, i) => ({ kind: "execution", id: `n-${i}`, model: "claude-sonnet-4-5", conclusion: "success" }));
  const response = await fetch(`${url}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ records }) });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).accepted, 100);
  // Reports come from its worker threads (report-worker.js on better-sqlite3), several at once.
  const reports = await Promise.all(["by=model", "by=day&tz=Asia/Kolkata", "by=hour"].map(async (q) => (await fetch(`${url}/api/v1/reports/usage?${q}`)).json()));
  assert.deepEqual(reports.map((r) => r.totals.runs), [100, 100, 100]);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /stopped \(SIGTERM\)/);
  const database = new Database(db, { readonly: true });
  assert.equal(database.prepare("SELECT count(*) AS n FROM executions").get().n, 100);
  database.close();
});
