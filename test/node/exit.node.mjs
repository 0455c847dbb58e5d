// Guarantee, under Node (better-sqlite3) against the BUILT package: process.exit(0) right
// after recording 10,000 executions, without shutdown(), loses none.
//
// Run `npm run build` first, then `node --test test/node/`. This file is also its own child:
// with TALLY_EXIT_CHILD set it records and exits instead of defining tests.
import { writeSync } from "node:fs";

const childArgs = process.env.TALLY_EXIT_CHILD;

if (childArgs) {
  const { path, count } = JSON.parse(childArgs);
  // Imported by the package's own name: resolves through package.json "exports" to dist/.
  const { createTelemetry } = await import("tally");
  const { openSqliteStore } = await import("tally/sqlite");
  const say = (at, extra) => writeSync(1, JSON.stringify({ at, ...extra }) + "\n");

  let telemetry;
  process.on("exit", () => say("exit-before", telemetry.stats()));
  const store = openSqliteStore({ path });
  say("opened", { driverName: store.driverName, unwritableReason: store.unwritableReason });
  telemetry = createTelemetry({ store });
  process.on("exit", () => say("exit-after", telemetry.stats()));
  for (let i = 0; i < count; i++) {
    telemetry.recordExecution({
      model: "claude-sonnet-4-5",
      conclusion: i % 10 === 0 ? "failure" : "success",
      repo: `org/repo-${i % 7}`,
      eventType: "pull_request",
      inputTokens: 100 + (i % 50),
      outputTokens: 20,
      durationMs: 1000,
      costUsd: 0.001,
    });
  }
  say("recorded", telemetry.stats());
  process.exit(0);
} else {
  const { test } = await import("node:test");
  const assert = (await import("node:assert/strict")).default;
  const { spawnSync } = await import("node:child_process");
  const { existsSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const Database = (await import("better-sqlite3")).default;

  const COUNT = 10_000;
  const self = fileURLToPath(import.meta.url);
  const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

  test("node: process.exit(0) after recording 10,000 executions loses none (built package, better-sqlite3)", (t) => {
    assert.ok(existsSync(dist), `the built package is missing (${dist}): run \`npm run build\` first`);
    const dir = mkdtempSync(join(tmpdir(), "tally-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "tally.db");

    const child = spawnSync(process.execPath, [self], {
      env: { ...process.env, TALLY_EXIT_CHILD: JSON.stringify({ path, count: COUNT }) },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(child.error, undefined);
    // Runtime warnings (e.g. an ExperimentalWarning on some Node version) are not failures.
    const stderr = child.stderr
      .split("\n")
      .filter((line) => line.trim() !== "" && !/Warning:|--trace-warnings/.test(line))
      .join("\n");
    assert.equal(stderr, "", "the child wrote to stderr");
    assert.equal(child.status, 0, `child exited with ${child.status} (signal ${child.signal})`);
    const byAt = new Map(
      child.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .map((line) => [line.at, line]),
    );
    const noDrops = { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 };
    assert.deepEqual(byAt.get("opened"), { at: "opened", driverName: "better-sqlite3", unwritableReason: null });
    // Nothing was written before process.exit: the synchronous exit hook wrote all of it.
    assert.equal(byAt.get("recorded").queued, COUNT);
    assert.equal(byAt.get("exit-before").written, 0);
    assert.equal(byAt.get("exit-after").written, COUNT);
    assert.equal(byAt.get("exit-after").queued, 0);
    assert.deepEqual(byAt.get("exit-after").dropped, noDrops);

    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare("PRAGMA integrity_check").pluck().get(), "ok");
      assert.equal(db.prepare("SELECT count(*) FROM executions").pluck().get(), COUNT);
      assert.equal(db.prepare("SELECT sum(runs) FROM daily_usage").pluck().get(), COUNT);
      assert.equal(
        db.prepare("SELECT sum(input_tokens) FROM daily_usage").pluck().get(),
        db.prepare("SELECT sum(input_tokens) FROM executions").pluck().get(),
      );
    } finally {
      db.close();
    }
  });
}
