// The PostgreSQL store under Node, from the built package (`tally/postgres`, postgres.js on
// node:net): the store-independent report contract, and `tally serve --db postgres://…` run
// by the built bin. Skipped, with the reason, when no server is given (npm test starts one).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { openPostgresStore } from "tally/postgres";
import { reportContract } from "../../build/node-tests/contract/report-contract.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const url = process.env.TALLY_TEST_POSTGRES_URL ?? "";
const skip = url === "" ? "no PostgreSQL server: set TALLY_TEST_POSTGRES_URL (npm test starts one)" : false;
const schema = () => `node_${randomBytes(6).toString("hex")}`;
const opened = [];
after(() => Promise.all(opened.map((s) => s.close())));

reportContract({
  name: "postgres (node)",
  describe: (name, body) => describe(name, { skip }, body),
  test,
  openStore: async (now) => {
    const store = openPostgresStore({ url, schema: schema(), retentionDays: 0, now });
    opened.push(store);
    await store.ready;
    return store;
  },
});

test("tally serve --db postgres://… under Node: ingest, then the read API answers from PostgreSQL", { skip }, async () => {
  const child = spawn(process.execPath, [join(root, "dist/cli/bin.js"), "serve", "--db", url, "--port", "0", "--json"], {
    env: { ...process.env, TALLY_PG_SCHEMA: schema() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
      });
      child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
    });
    const { url: server, database } = JSON.parse(line);
    assert.equal(database, url);
    // Yesterday by the real clock, which the server runs on: a fixed date would be refused as far ahead under a clock set back.
    const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
    const next = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    const body = { records: [{ kind: "execution", id: "node-pg-1", model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 1000, outputTokens: 10, createdAt: `${day}T10:00:00Z` }] };
    for (const expected of ["accepted", "duplicate"]) {
      const answer = await (await fetch(`${server}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
      assert.equal(answer.results[0].status, expected);
    }
    const usage = await (await fetch(`${server}/api/v1/reports/usage?since=${day}&until=${next}&by=repo`)).json();
    assert.deepEqual(usage.rows.map((r) => [r.group.repo, r.runs, r.inputTokens]), [["acme/api", 1, 1000]]);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
  }
});

/** `n` executions in one hour of 2026-11-20, ids e-00000…, as a Batch. */
function executions(n, from = 0) {
  return Array.from({ length: n }, (_, i) => ({ kind: "execution", row: {
    id: `e-${String(from + i).padStart(5, "0")}`, createdAt: Date.UTC(2026, 10, 20, 10) + i, deliveryId: null, repo: "acme/api", prNumber: null,
    eventType: "", provider: "anthropic", model: "m", inputTokens: 10, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0,
    durationMs: 100 + i, costUsd: 0.25, costSource: "reported", conclusion: "success", sessionId: null, numTurns: null, stopReason: null,
    attributes: JSON.stringify({ note: "tab\there\nline \\ back" }),
  } }));
}

test("under Node: a 300-run batch goes in by COPY, again as 300 duplicates; a NUL byte refuses its batch without hanging", { skip }, async () => {
  const store = openPostgresStore({ url, schema: schema(), retentionDays: 0, now: () => Date.UTC(2026, 10, 20, 12) });
  opened.push(store);
  const first = await store.write(executions(300));
  assert.deepEqual([first.ok, first.inserted], [true, 300]);
  const again = await store.write(executions(300));
  assert.deepEqual([again.ok, again.inserted, again.duplicates], [true, 0, 300]);
  const bad = executions(300, 1000);
  bad[7].row.repo = "a\u0000b";
  const refused = await store.write(bad);
  assert.deepEqual([refused.ok, refused.failure], [false, "rejected"]);
  const report = await store.report({ kind: "usage", groupBy: [], range: { since: Date.UTC(2026, 10, 20), until: Date.UTC(2026, 10, 21) } });
  assert.equal(report.totals.runs, 300);
});

test("under Node: a write whose backend is terminated while it waits is retryable and the process lives on", { skip }, async () => {
  const { default: postgres } = await import("postgres");
  const store = openPostgresStore({ url, schema: schema(), retentionDays: 0, maxConnections: 1, now: () => Date.UTC(2026, 10, 20, 12) });
  opened.push(store);
  await store.ready;
  const batch = executions(300);
  const holder = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: store.schema } });
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    let release;
    const holding = holder.begin(async (tx) => {
      await tx.unsafe("INSERT INTO executions_ids (id, created_at) VALUES ($1, $2)", [batch[0].row.id, batch[0].row.createdAt]);
      await new Promise((resolve) => (release = resolve));
      throw new Error("roll back");
    }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    const writing = store.write(batch);
    let pid;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      pid = (await admin.unsafe("SELECT pid FROM pg_stat_activity WHERE application_name = 'tally' AND wait_event_type = 'Lock'"))[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(typeof pid, "number");
    await admin.unsafe("SELECT pg_terminate_backend($1)", [pid]);
    const result = await writing;
    assert.deepEqual([result.ok, result.failure], [false, "retryable"]);
    release();
    await holding;
    let retried = await store.write(batch);
    for (let attempt = 0; attempt < 3 && !retried.ok && retried.failure === "retryable"; attempt++) retried = await store.write(batch);
    assert.deepEqual([retried.ok, retried.inserted], [true, 300]);
  } finally {
    await holder.end();
    await admin.end();
  }
});

test("under Node: behind PgBouncer in transaction mode, every write finds the schema and goes through once", { skip: skip || (spawnSync("pgbouncer", ["--version"]).status === 0 ? false : "no pgbouncer binary: apt-get install pgbouncer") }, async () => {
  const script = join(root, "scripts/test-pgbouncer.sh");
  const out = execFileSync("bash", [script, url], { encoding: "utf8" }).trim();
  const [pooler, dir] = [out.slice(0, out.indexOf(" ")), out.slice(out.lastIndexOf(" ") + 1)];
  const warnings = [];
  const logger = { debug() {}, info() {}, warn: (_obj, msg) => warnings.push(msg), error: (_obj, msg) => warnings.push(msg) };
  const store = openPostgresStore({ url: pooler, schema: schema(), retentionDays: 0, maxConnections: 1, logger, now: () => Date.UTC(2026, 10, 22) });
  try {
    // Two transactions at once open both server connections; from then on they take turns.
    const warm = postgres(pooler, { max: 2, onnotice: () => {} });
    await Promise.all([warm`SELECT pg_sleep(0.2)`, warm`SELECT pg_sleep(0.2)`]);
    await warm.end();
    const start = Date.UTC(2026, 10, 20);
    const range = { since: start, until: start + 86_400_000 };
    for (let b = 0; b < 4; b++) {
      const batch = executions(20, b * 20).map((r, i) => ({ ...r, row: { ...r.row, id: `pool-${b}-${i}`, createdAt: start + (b * 20 + i) * 60_000 } }));
      const result = await store.write(batch);
      assert.equal(result.ok, true, result.error?.message);
      assert.equal(result.inserted, 20);
    }
    const report = await store.report({ kind: "usage", groupBy: [], range });
    assert.equal(report.totals.runs, 80);
    assert.deepEqual(warnings, []);
  } finally {
    await store.close();
    execFileSync("bash", [script, "stop", dir]);
  }
});
