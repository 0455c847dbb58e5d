// The PostgreSQL store under Node, from the built package (`tally/postgres`, postgres.js on
// node:net): the store-independent report contract, and `tally serve --db postgres://…` run
// by the built bin. Skipped, with the reason, when no server is given (npm test starts one).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
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
  openStore: async () => {
    const store = openPostgresStore({ url, schema: schema(), retentionDays: 0 });
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
    const body = { records: [{ kind: "execution", id: "node-pg-1", model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 1000, outputTokens: 10, createdAt: "2026-11-20T10:00:00Z" }] };
    for (const expected of ["accepted", "duplicate"]) {
      const answer = await (await fetch(`${server}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
      assert.equal(answer.results[0].status, expected);
    }
    const usage = await (await fetch(`${server}/api/v1/reports/usage?since=2026-11-20&until=2026-11-21&by=repo`)).json();
    assert.deepEqual(usage.rows.map((r) => [r.group.repo, r.runs, r.inputTokens]), [["acme/api", 1, 1000]]);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
  }
});
