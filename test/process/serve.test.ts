/**
 * `tally serve` as a process: SIGTERM and SIGINT while requests are in flight finish them,
 * commit, and exit 0; the http store in another process loses nothing and stores nothing
 * twice when the server is down at first, or is killed with SIGKILL mid-stream and restarted.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupTempDirs, spawnFixture, tempDir, type Child } from "./helpers.ts";

afterAll(cleanupTempDirs);

async function serve(db: string, port = 0): Promise<{ child: Child; url: string; port: number }> {
  const child = spawnFixture("tally-cli.ts", ["serve", "--db", db, "--port", String(port), "--json"]);
  const line = await child.waitForLine(/"url"/);
  const started = JSON.parse(line) as { url: string; port: number };
  return { child, url: started.url, port: started.port };
}

const count = (db: string, sql = "SELECT count(*) AS n FROM executions") => {
  const database = new Database(db, { readonly: true });
  try {
    return Number((database.query(sql).get() as { n: number }).n);
  } finally {
    database.close();
  }
};

function batch(prefix: string, n: number) {
  return JSON.stringify({ records: Array.from({ length: n }, (_, i) => ({ kind: "execution", id: `${prefix}-${i}`, model: "claude-sonnet-4-5", conclusion: "success" })) });
}

describe("tally serve", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} with requests in flight: each acknowledged record is committed, exit 0`, async () => {
      const db = join(tempDir(), "tally.db");
      const { child, url } = await serve(db);
      const acknowledged: string[] = [];
      let settled = 0;
      let firstAnswer = () => {};
      const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
      const sends = Array.from({ length: 40 }, async (_, k) => {
        try {
          const response = await fetch(`${url}/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: batch(`b${k}`, 200) });
          if (response.status === 200) acknowledged.push(`b${k}`);
        } catch {
          // refused once the server stopped accepting: not acknowledged, nothing promised
        } finally {
          settled++;
          firstAnswer();
        }
      });
      // The signal comes once one answer is back, with the other requests still on their way.
      await answered;
      const settledAtSignal = settled;
      child.proc.kill(signal);
      await Promise.all(sends);
      expect(await child.exitWithin(20_000)).toBe(0);
      expect(await child.stderr()).toContain(`stopped (${signal})`);
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(settledAtSignal).toBeLessThan(40); // some were still in flight at the signal
      for (const prefix of acknowledged) expect(count(db, `SELECT count(*) AS n FROM executions WHERE id GLOB '${prefix}-*'`)).toBe(200);
    });
  }
});

describe("tally serve --demo (the README's first command)", () => {
  test("fills ./data/demo.db with three days of every kind of record and answers about them", async () => {
    const cwd = tempDir();
    const child = spawnFixture("tally-cli.ts", ["serve", "--demo", "--port", "0", "--json"], { TALLY_DB: "" }, cwd);
    const { url, database } = JSON.parse(await child.waitForLine(/"url"/)) as { url: string; database: string };
    try {
      expect(database).toBe(join(cwd, "data", "demo.db"));
      const usage = (await (await fetch(`${url}/api/v1/reports/usage?since=72h&by=model`)).json()) as any;
      expect(usage.totals.runs).toBeGreaterThan(500);
      expect(usage.totals.unpricedRuns).toBe(0);
      expect(usage.rows.map((r: any) => r.group.model).sort()).toEqual(["claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-5"]);
      const tools = (await (await fetch(`${url}/api/v1/reports/tools?since=72h`)).json()) as any;
      expect(tools.totals.calls).toBeGreaterThan(usage.totals.runs);
      expect(tools.totals.errors).toBeGreaterThan(0);
      const degradations = (await (await fetch(`${url}/api/v1/reports/degradations?since=72h`)).json()) as any;
      expect(degradations.totals.degradedRuns).toBeGreaterThan(0);
      expect(degradations.caches[0].hits).toBeGreaterThan(0);
      const runs = (await (await fetch(`${url}/api/v1/runs?limit=1`)).json()) as any;
      const detail = (await (await fetch(`${url}/api/v1/runs/${runs.runs[0].id}`)).json()) as any;
      expect(detail.toolCalls.length).toBeGreaterThan(0);
      expect(detail.session.endedAt).not.toBeNull();
    } finally {
      child.proc.kill("SIGTERM");
    }
    expect(await child.exitWithin(10_000)).toBe(0);
  });
});

describe("openHttpStore from another process", () => {
  test("the server is down when the writer starts, then comes up: nothing lost", async () => {
    const db = join(tempDir(), "tally.db");
    const probe = await serve(db);
    probe.child.proc.kill("SIGTERM");
    await probe.child.exitWithin(10_000);
    const writer = spawnFixture("http-writer.ts", [probe.url, "500", "50", "5"]);
    await writer.waitForLine(/recorded 500/);
    const server = await serve(db, probe.port);
    const done = await writer.waitForLine(/^done /, 60_000);
    const stats = JSON.parse(done.slice(5));
    expect(stats.written).toBe(500);
    expect(stats.dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
    expect(await writer.exitWithin(10_000)).toBe(0);
    server.child.proc.kill("SIGTERM");
    expect(await server.child.exitWithin(10_000)).toBe(0);
    expect(count(db)).toBe(500);
  });

  test("the server is killed with SIGKILL mid-stream and restarted: every record stored exactly once", async () => {
    const db = join(tempDir(), "tally.db");
    const first = await serve(db);
    const writer = spawnFixture("http-writer.ts", [first.url, "3000", "100", "10"]);
    await writer.waitForLine(/recorded 1000$/);
    first.child.proc.kill("SIGKILL");
    await first.child.exited;
    const stored = count(db);
    expect(stored).toBeLessThan(3000);
    const second = await serve(db, first.port);
    const done = await writer.waitForLine(/^done /, 60_000);
    const stats = JSON.parse(done.slice(5));
    expect(stats.dropped).toEqual({ queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 });
    second.child.proc.kill("SIGTERM");
    expect(await second.child.exitWithin(10_000)).toBe(0);
    // Ids are the writer's: a batch committed just before the kill and sent again is stored once.
    expect(count(db)).toBe(3000);
    expect(count(db, "SELECT count(DISTINCT id) AS n FROM executions")).toBe(3000);
    expect(count(db, "SELECT sum(runs) AS n FROM daily_usage")).toBe(3000);
  }, 90_000);
});
