// The store contract on better-sqlite3 under Node, against the BUILT package (dist/), as a
// Node user gets it. Run by `npm test` after `npm run build` and `tsc -p tsconfig.node-tests.json`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openSqliteStore, SCHEMA_VERSION } from "tally/sqlite";
import { reportContract } from "../../build/node-tests/contract/report-contract.js";
import { storeContract } from "../../build/node-tests/contract/store-contract.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

storeContract({
  name: "better-sqlite3 (node, built package)",
  describe,
  test,
  openStore: (options) => {
    const store = openSqliteStore(options);
    if (store.driverName !== "better-sqlite3") throw new Error(`expected better-sqlite3, got ${store.driverName}`);
    return store;
  },
  openRaw(path) {
    const db = new Database(path);
    db.pragma("busy_timeout = 5000");
    return {
      all: (sql, ...params) => db.prepare(sql).all(...params),
      get: (sql, ...params) => db.prepare(sql).get(...params),
      run: (sql, ...params) => void db.prepare(sql).run(...params),
      close: () => db.close(),
    };
  },
  tempDir() {
    const dir = mkdtempSync(join(tmpdir(), "tally-node-"));
    dirs.push(dir);
    return dir;
  },
  schemaVersion: SCHEMA_VERSION,
  fixturesDir: join(here, "../contract/fixtures"),
  async replayInChildren(path, processes) {
    const script = join(here, "../contract/fixtures/replay-writer.mjs");
    const codes = await Promise.all(
      Array.from({ length: processes }, () => new Promise((resolve) => {
        spawn(process.execPath, [script, path], { stdio: "inherit" }).on("exit", resolve);
      })),
    );
    if (codes.some((code) => code !== 0)) throw new Error(`replay writers exited with ${codes.join(", ")}`);
  },
});

reportContract({
  name: "better-sqlite3 (node, built package)",
  describe,
  test,
  openStore: (now) => {
    const dir = mkdtempSync(join(tmpdir(), "tally-node-report-"));
    dirs.push(dir);
    return openSqliteStore({ path: join(dir, "contract.db"), retentionDays: 0, now });
  },
});
