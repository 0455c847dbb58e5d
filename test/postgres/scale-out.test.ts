/**
 * Scale-out, with real processes on loopback: three `tally serve` on one PostgreSQL schema,
 * four producers (http store) spread over them round-robin, every batch sent twice at once by
 * each producer, and one set of records sent by two producers to two servers at the same
 * moment. What is read back equals the distinct records, once: through every server's read
 * API (from the rollups and from the raw rows) and in the tables themselves.
 * Then the same with one server SIGKILLed mid-run and restarted on its port while its
 * producer keeps recording: the producer retries until acknowledged and nothing is lost or
 * stored twice.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { spawnFixture, type Child } from "../process/helpers.ts";
import { freshSchema, POSTGRES_URL, SKIP_REASON } from "./harness.ts";

// spawnFixture runs files under test/process/fixtures; these two are reached from there.
const TALLY_BIN = "../../../src/cli/bin.ts";
const PRODUCER = "../../postgres/fixtures/scale-out-producer.ts";

const SERVERS = 3;
const PRODUCERS = 4;
/** Own executions per producer: phase 1, then phase 2 (after the test's go-ahead), in chunks. */
const PHASE1 = 800;
const PHASE2 = 400;
const CHUNK = 50;
/** `shared-run-*` executions, sent by both of these producers (servers 0 and 1). */
const SHARED = 320;
const SHARED_BY = [0, 1];

/**
 * The distinct records, by hand from the producer's definitions (see the fixture's header):
 * per producer N = PHASE1 + PHASE2 runs with inputTokens 100 + i, outputTokens 10 + p,
 * costUsd (1 + i % 4) / 64 (dyadic, so float sums are exact in any order), a failure every
 * 10th, a tool call every 2nd; plus SHARED runs of 7 / 3 tokens at 1/32 $, a failing tool
 * call every 4th.
 */
const N = PHASE1 + PHASE2;
const EXPECTED = {
  runs: PRODUCERS * N + SHARED, // 5120
  failures: PRODUCERS * (N / 10), // 480
  inputTokens: PRODUCERS * (100 * N + (N * (N - 1)) / 2) + 7 * SHARED, // 3_357_040
  outputTokens: N * (10 + 11 + 12 + 13) + 3 * SHARED, // 56_160
  costUsd: PRODUCERS * (N / 4) * ((1 + 2 + 3 + 4) / 64) + SHARED / 32, // 197.5
  sonnetRuns: PRODUCERS * (N / 2) + SHARED, // 2720
  haikuRuns: PRODUCERS * (N / 2), // 2400
  toolCalls: PRODUCERS * (N / 2) + SHARED / 4, // 2480
  toolErrors: SHARED / 4, // 80
};
const DISTINCT_RECORDS = EXPECTED.runs + EXPECTED.toolCalls;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const children: Child[] = [];
const schemas: string[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
  }
  await Promise.all(children.map((child) => child.exited));
  if (SKIP_REASON === null && schemas.length > 0) {
    const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
    try {
      for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
});

function track(child: Child): Child {
  children.push(child);
  return child;
}

interface Server {
  child: Child;
  url: string;
  port: number;
}

async function startServer(schema: string, port = 0): Promise<Server> {
  const child = track(spawnFixture(TALLY_BIN, ["serve", "--db", POSTGRES_URL, "--port", String(port), "--json"], { TALLY_PG_SCHEMA: schema }));
  const started = JSON.parse(await child.waitForLine(/^\{"url"/, 30_000)) as { url: string; port: number };
  return { child, url: started.url, port: started.port };
}

async function stopServer(server: Server): Promise<void> {
  server.child.proc.kill("SIGTERM");
  expect(await server.child.exitWithin(15_000)).toBe(0);
  expect(await server.child.stderr()).toContain("stopped (SIGTERM); every acknowledged record is committed");
}

function startProducer(producer: number, url: string, base: number): Child {
  const config = { url, producer, base, phase1: PHASE1, phase2: PHASE2, shared: SHARED, sharedBy: SHARED_BY, chunk: CHUNK };
  return track(spawnFixture(PRODUCER, [JSON.stringify(config)]));
}

function tell(child: Child, word: string): void {
  child.proc.stdin.write(`${word}\n`);
  void child.proc.stdin.flush();
}

interface InstanceStats {
  queued: number;
  written: number;
  duplicates: number;
  idCollisions: number;
  dropped: Record<string, number>;
  lastError: string | null;
}

/** Waits for a producer's exit 0 and returns what it reported. */
async function finished(producer: Child, index: number): Promise<{ a: InstanceStats; b: InstanceStats; recorded: number }> {
  const done = await producer.waitForLine(/^done /, 60_000);
  const code = await producer.exitWithin(10_000);
  expect({ producer: index, code, stderr: code === 0 ? "" : await producer.stderr() }).toEqual({ producer: index, code: 0, stderr: "" });
  return JSON.parse(done.slice(5));
}

/** Whole UTC days around the records, so the rollups can answer; and the same read from raw rows. */
function window(base: number): string {
  const day = Math.floor(base / DAY_MS) * DAY_MS;
  return `since=${new Date(day - DAY_MS).toISOString()}&until=${new Date(day + 2 * DAY_MS).toISOString()}`;
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.json();
}

/** Every server's read API, from the rollups and from the raw rows (`exact`), says the same: the distinct records. */
async function expectReportedTotals(servers: Server[], base: number): Promise<void> {
  for (const server of servers) {
    for (const exact of [false, true]) {
      const where = { server: server.url, exact };
      const usage = await getJson(`${server.url}/api/v1/reports/usage?${window(base)}&by=model&exact=${exact}`);
      expect({ where, source: usage.source }).toEqual({ where, source: exact ? "raw" : "rollups" });
      const { runs, failures, inputTokens, outputTokens, costUsd, unpricedRuns } = usage.totals;
      expect({ where, runs, failures, inputTokens, outputTokens, costUsd, unpricedRuns }).toEqual({
        where, runs: EXPECTED.runs, failures: EXPECTED.failures, inputTokens: EXPECTED.inputTokens, outputTokens: EXPECTED.outputTokens,
        costUsd: EXPECTED.costUsd, unpricedRuns: 0,
      });
      const byModel = Object.fromEntries(usage.rows.map((row: any) => [row.group.model, row.runs]));
      expect({ where, byModel }).toEqual({ where, byModel: { "claude-haiku-4-5": EXPECTED.haikuRuns, "claude-sonnet-4-5": EXPECTED.sonnetRuns } });
      const tools = await getJson(`${server.url}/api/v1/reports/tools?${window(base)}&exact=${exact}`);
      expect({ where, calls: tools.totals.calls, errors: tools.totals.errors }).toEqual({ where, calls: EXPECTED.toolCalls, errors: EXPECTED.toolErrors });
    }
  }
}

/** The tables themselves: one row per distinct id, and rollups that sum to the same. */
async function expectRowsOnce(schema: string): Promise<void> {
  await withSql(async (one) => {
    const counts = {
      executions: await one(`SELECT count(*) AS n FROM ${schema}.executions`),
      distinctExecutionIds: await one(`SELECT count(DISTINCT id) AS n FROM ${schema}.executions`),
      toolCalls: await one(`SELECT count(*) AS n FROM ${schema}.tool_calls`),
      distinctToolCallIds: await one(`SELECT count(DISTINCT id) AS n FROM ${schema}.tool_calls`),
      dailyRuns: await one(`SELECT coalesce(sum(runs), 0) AS n FROM ${schema}.daily_usage`),
      hourlyRuns: await one(`SELECT coalesce(sum(runs), 0) AS n FROM ${schema}.hourly_usage`),
      dailyModelInputTokens: await one(`SELECT coalesce(sum(input_tokens), 0) AS n FROM ${schema}.daily_model_usage`),
      dailyToolCalls: await one(`SELECT coalesce(sum(calls), 0) AS n FROM ${schema}.daily_tool_usage`),
      sharedRuns: await one(`SELECT count(*) AS n FROM ${schema}.executions WHERE id LIKE 'shared-run-%'`),
    };
    expect(counts).toEqual({
      executions: EXPECTED.runs, distinctExecutionIds: EXPECTED.runs, toolCalls: EXPECTED.toolCalls, distinctToolCallIds: EXPECTED.toolCalls,
      dailyRuns: EXPECTED.runs, hourlyRuns: EXPECTED.runs, dailyModelInputTokens: EXPECTED.inputTokens, dailyToolCalls: EXPECTED.toolCalls,
      sharedRuns: SHARED,
    });
  });
}

/** A plain connection for one look at the tables; `one` runs a query answering one number `n`. */
async function withSql<T>(use: (one: (query: string) => Promise<number>) => Promise<T>): Promise<T> {
  const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    return await use(async (query) => Number((await sql.unsafe(query))[0]!.n));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Records of one producer's instance (A or B: the same records): own, plus the shared set for SHARED_BY. */
function recordsOf(producer: number): number {
  return N + N / 2 + (SHARED_BY.includes(producer) ? SHARED + SHARED / 4 : 0);
}

/** An hour boundary two hours back: the records span 20 minutes from it, inside one UTC day. */
function baseTime(): number {
  return Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
}

/**
 * Checks that each producer's two instances had every record acknowledged, and returns how
 * many copies the servers stored as new (the rest were answered "duplicate").
 */
function acknowledgedFirstCopies(reports: Awaited<ReturnType<typeof finished>>[]): number {
  let firstCopies = 0;
  reports.forEach(({ a, b, recorded }, p) => {
    expect({ p, recorded }).toEqual({ p, recorded: recordsOf(p) });
    for (const stats of [a, b]) {
      expect({ p, written: stats.written, queued: stats.queued, idCollisions: stats.idCollisions }).toEqual({ p, written: recordsOf(p), queued: 0, idCollisions: 0 });
      firstCopies += stats.written - stats.duplicates;
    }
  });
  return firstCopies;
}

(SKIP_REASON === null ? describe : describe.skip)("scale-out: three tally serve, one PostgreSQL schema, four producers", () => {
  test("every batch twice, overlapping producers on different servers: the distinct records, once", async () => {
    const schema = freshSchema("scale");
    schemas.push(schema);
    const base = baseTime();
    const servers = await Promise.all(Array.from({ length: SERVERS }, () => startServer(schema)));
    const producers = Array.from({ length: PRODUCERS }, (_, p) => startProducer(p, servers[p % SERVERS]!.url, base));
    await Promise.all(producers.map((child) => child.waitForLine(/^ready$/, 30_000)));
    // All at once: the shared records go to servers 0 and 1 at the same moment, each twice.
    for (const child of producers) tell(child, "go");
    await Promise.all(producers.map((child) => child.waitForLine(/^phase1-done$/, 30_000)));
    for (const child of producers) tell(child, "more");
    const reports = await Promise.all(producers.map((child, p) => finished(child, p)));

    // Each instance had every record acknowledged; each record was stored by exactly one of its copies.
    const firstCopies = acknowledgedFirstCopies(reports);
    expect(firstCopies).toBe(DISTINCT_RECORDS);

    await expectReportedTotals(servers, base);
    await expectRowsOnce(schema);
    await Promise.all(servers.map(stopServer));
  }, 50_000);

  test("a server SIGKILLed mid-run and restarted while its producer records: every record once", async () => {
    const schema = freshSchema("scale");
    schemas.push(schema);
    const base = baseTime();
    const servers = await Promise.all(Array.from({ length: SERVERS }, () => startServer(schema)));
    const victim = 2; // producer 2 writes to server 2, and only it
    const producers = Array.from({ length: PRODUCERS }, (_, p) => startProducer(p, servers[p % SERVERS]!.url, base));
    await Promise.all(producers.map((child) => child.waitForLine(/^ready$/, 30_000)));
    for (const child of producers) tell(child, "go");

    // A few chunks in, with the producer sending without pause: kill its server.
    await producers[victim]!.waitForLine(/^chunk 2$/, 30_000);
    servers[victim]!.child.proc.kill("SIGKILL");
    await servers[victim]!.child.exited;
    expect(servers[victim]!.child.proc.signalCode).toBe("SIGKILL");
    expect(producers[victim]!.lines).not.toContain(`chunk ${PHASE1 / CHUNK + PHASE2 / CHUNK - 1}`); // phase 2 is still to come

    // The producer goes on: the rest of phase 1 and all of phase 2 are recorded while the server is down.
    await Promise.all(producers.map((child) => child.waitForLine(/^phase1-done$/, 30_000)));
    for (const child of producers) tell(child, "more");
    await producers[victim]!.waitForLine(new RegExp(`^chunk ${PHASE1 / CHUNK + PHASE2 / CHUNK - 1}$`), 30_000);
    await producers[victim]!.waitForLine(/^log warn [AB] tally: store temporarily unavailable/, 30_000);
    expect(producers[victim]!.lines.some((line) => line.startsWith("done "))).toBe(false);
    // Mid-run indeed: some of its runs were committed before the kill, the rest wait in the producer.
    const storedWhileDown = await withSql((one) => one(`SELECT count(*) AS n FROM ${schema}.executions WHERE id LIKE 'p${victim}-run-%'`));
    expect(storedWhileDown).toBeGreaterThan(0);
    expect(storedWhileDown).toBeLessThan(N);

    // A new process on the same schema and port; the producer's retries reach it.
    const restarted = await startServer(schema, servers[victim]!.port);
    const live = [servers[0]!, servers[1]!, restarted];
    const reports = await Promise.all(producers.map((child, p) => finished(child, p)));

    const firstCopies = acknowledgedFirstCopies(reports);
    // The victim's instances met the dead server and retried (lastError keeps the latest failure).
    expect(reports[victim]!.a.lastError).toMatch(/POST .*\/v1\/batch/);
    expect(reports[victim]!.b.lastError).toMatch(/POST .*\/v1\/batch/);
    expect(producers[victim]!.lines.some((line) => /^log info [AB] tally: store is writable again/.test(line))).toBe(true);
    // A batch committed by the killed server but never answered is answered "duplicate" when
    // sent again: first copies can only come out short, never over.
    expect(firstCopies).toBeLessThanOrEqual(DISTINCT_RECORDS);

    await expectReportedTotals(live, base);
    await expectRowsOnce(schema);
    await Promise.all(live.map(stopServer));
  }, 50_000);
});
