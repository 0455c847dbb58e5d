import { Database } from "bun:sqlite";
import { afterAll, describe, test } from "bun:test";
import { join } from "node:path";
import { openSqliteStore, SCHEMA_VERSION } from "../../src/store/sqlite/index.ts";
import { reportContract } from "../contract/report-contract.ts";
import { storeContract } from "../contract/store-contract.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterAll(removeTempDirs);

storeContract({
  name: "bun:sqlite",
  describe,
  test,
  openStore: (options) => openSqliteStore({ driver: "bun:sqlite", ...options }),
  openRaw(path) {
    const db = new Database(path);
    db.exec("PRAGMA busy_timeout = 5000");
    return {
      all: (sql, ...params) => db.query(sql).all(...(params as never[])) as Record<string, unknown>[],
      get: (sql, ...params) => (db.query(sql).get(...(params as never[])) as Record<string, unknown> | null) ?? undefined,
      run: (sql, ...params) => void db.query(sql).run(...(params as never[])),
      close: () => db.close(),
    };
  },
  tempDir,
  schemaVersion: SCHEMA_VERSION,
  fixturesDir: join(import.meta.dir, "../contract/fixtures"),
  async replayInChildren(path, processes) {
    const script = join(import.meta.dir, "../contract/fixtures/replay-writer.mjs");
    const children = Array.from({ length: processes }, () =>
      Bun.spawn([process.execPath, script, path], { stdout: "inherit", stderr: "inherit" }),
    );
    const codes = await Promise.all(children.map((child) => child.exited));
    if (codes.some((code) => code !== 0)) throw new Error(`replay writers exited with ${codes.join(", ")}`);
  },
});

reportContract({
  name: "bun:sqlite",
  describe,
  test,
  openStore: (now) => openSqliteStore({ driver: "bun:sqlite", path: join(tempDir(), "contract.db"), retentionDays: 0, now }),
});
