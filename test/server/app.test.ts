/**
 * The server app through `app.request()` (no socket), on a real SQLite file: native ingest
 * commits before it answers and answers per item; the read API answers as the CLI does.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { createServerApp, type ServerApp } from "../../src/server/app.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { tallyJson, NOW } from "../cli/harness.ts";
import { knownDb } from "../cli/known-db.ts";
import { countRows, queryRows } from "../support/sql.ts";
import { tempDir } from "../support/temp-dir.ts";

const opened: SqliteStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function serverOn(path = join(tempDir(), "tally.db"), options: Partial<Parameters<typeof createServerApp>[0]> = {}): { server: ServerApp; store: SqliteStore; path: string } {
  const store = openSqliteStore({ path, retentionDays: 0, now: () => NOW });
  opened.push(store);
  return { server: createServerApp({ store, now: () => NOW, ...options }), store, path };
}

const count = countRows;

function post(server: ServerApp, records: unknown[], headers: Record<string, string> = {}) {
  return server.app.request("/v1/batch", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ records }) });
}

const run = (id: string, extra: Record<string, unknown> = {}) => ({ kind: "execution", id, model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 100, outputTokens: 20, createdAt: "2026-11-22T10:00:00Z", ...extra });

describe("POST /v1/batch", () => {
  test("commits before answering, per item: accepted, duplicate, invalid with the field", async () => {
    const { server, store } = serverOn();
    const response = await post(server, [run("r1"), run("r1"), { kind: "execution", id: "r2", conclusion: "success" }, { kind: "nope", id: "x" }, run("r3", { id: undefined })]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.results.map((r: any) => r.status)).toEqual(["accepted", "duplicate", "invalid", "invalid", "invalid"]);
    expect(body.results[2].field).toBe("model");
    expect(body.results[3].field).toBe("kind");
    expect(body.results[4].field).toBe("id");
    expect([body.accepted, body.duplicates, body.invalid]).toEqual([1, 1, 3]);
    // Committed already: the answer came after the transaction.
    expect(count(store, "executions")).toBe(1);
    const again = (await (await post(server, [run("r1")])).json()) as any;
    expect(again.results[0].status).toBe("duplicate");
    expect(count(store, "executions")).toBe(1);
  });

  test("every kind of record, priced like the library prices it", async () => {
    const { server, store } = serverOn();
    const records = [
      run("e1"),
      { kind: "toolCall", id: "t1", toolName: "search", outcome: "ok", durationMs: 12, sessionId: "s1", createdAt: "2026-11-22T10:00:01Z" },
      { kind: "rateLimitEvent", id: "l1", resource: "search", degradation: "partial", deliveryId: "d1", eventType: "pull_request" },
      { kind: "sessionStart", id: "s1", source: "mcp", client: { name: "inspector", version: "1.0" }, startedAt: "2026-11-22T09:59:00Z" },
      { kind: "sessionEnd", id: "s1", endedAt: "2026-11-22T10:05:00Z" },
      { kind: "cacheEvent", id: "c1", cache: "diffs", outcome: "hit" },
    ];
    const body = (await (await post(server, records)).json()) as any;
    expect(body.results.map((r: any) => r.status)).toEqual(["accepted", "accepted", "accepted", "accepted", "accepted", "accepted"]);
    for (const table of ["executions", "tool_calls", "rate_limit_events", "sessions", "cache_events"]) expect(count(store, table)).toBe(1);
    const stored = queryRows(store, "SELECT cost_usd, cost_source FROM executions")[0] as any;
    expect(stored.cost_source).toBe("computed");
    expect(stored.cost_usd).toBeGreaterThan(0);
    const session = (await (await server.app.request("/api/v1/sessions/s1")).json()) as any;
    expect(session.session.endedAt).toBe("2026-11-22T10:05:00.000Z");
    expect(session.toolCalls.map((t: any) => t.id)).toEqual(["t1"]);
  });

  test("gzip bodies are inflated; a gzip bomb is refused with 413 before it is inflated", async () => {
    const { server, store } = serverOn(undefined, { maxBodyBytes: 64 * 1024 });
    const gz = gzipSync(JSON.stringify({ records: [run("g1")] }));
    const ok = await server.app.request("/v1/batch", { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gz });
    expect(ok.status).toBe(200);
    expect(count(store, "executions")).toBe(1);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32)); // 64 MiB of spaces in ~64 KiB
    expect(bomb.byteLength).toBeLessThan(128 * 1024);
    const refused = await server.app.request("/v1/batch", { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: bomb });
    expect(refused.status).toBe(413);
    const broken = await server.app.request("/v1/batch", { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: "not gzip at all" });
    expect(broken.status).toBe(400);
  });

  test("wrong content type 415, malformed JSON 400, unknown encoding 415, never 500", async () => {
    const { server } = serverOn();
    const cases: [RequestInit, number][] = [
      [{ method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }, 415],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }, 400],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "[]" }, 400],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: '{"records": 5}' }, 400],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "[".repeat(200_000) }, 400],
      [{ method: "POST", headers: { "content-type": "application/json", "content-encoding": "br" }, body: "{}" }, 415],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ records: [null, 5, "x", [], { kind: "execution", id: {}, model: [] }] }) }, 200],
    ];
    for (const [init, status] of cases) expect((await server.app.request("/v1/batch", init)).status).toBe(status);
  });

  test("a full queue answers 429 with Retry-After and takes nothing", async () => {
    const { server, store } = serverOn(undefined, { maxQueuedRecords: 2 });
    // The first request is in the queue (its write has not run yet) when the second arrives.
    const first = post(server, [run("q1"), run("q2")]);
    const second = await post(server, [run("q3")]);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect((await first).status).toBe(200);
    expect(count(store, "executions")).toBe(2);
  });
});

describe("tokens", () => {
  const ingestToken = "ingest-token-0123456789";
  const readToken = "read-token-0123456789ab";
  test("ingest and read each need their own token", async () => {
    const { server } = serverOn(undefined, { ingestToken, readToken });
    expect((await post(server, [run("a1")])).status).toBe(401);
    expect((await post(server, [run("a1")], { authorization: `Bearer ${readToken}` })).status).toBe(401);
    expect((await post(server, [run("a1")], { authorization: `Bearer ${ingestToken}` })).status).toBe(200);
    expect((await server.app.request("/api/v1/reports/usage")).status).toBe(401);
    expect((await server.app.request("/api/v1/reports/usage", { headers: { authorization: `Bearer ${ingestToken}` } })).status).toBe(401);
    expect((await server.app.request("/api/v1/reports/usage", { headers: { authorization: `Bearer ${readToken}` } })).status).toBe(200);
    expect((await server.app.request("/metrics")).status).toBe(401);
    expect((await server.app.request("/healthz")).status).toBe(200);
  });
});

describe("read API", () => {
  test("reports equal `tally … --json` for the same options", async () => {
    const path = knownDb();
    const { server } = serverOn(path);
    const cases: [string, string[]][] = [
      ["/api/v1/reports/usage?by=repo,model&since=7d&tz=Europe/Berlin", ["report", "--by", "repo,model", "--since", "7d", "--tz", "Europe/Berlin"]],
      ["/api/v1/reports/usage?by=day&by=conclusion&repo=acme/*&sort=cost&limit=3", ["report", "--by", "day", "--by", "conclusion", "--repo", "acme/*", "--sort", "cost", "--limit", "3"]],
      ["/api/v1/reports/usage?by=hour&since=24h&exact=true", ["report", "--by", "hour", "--since", "24h", "--exact"]],
      ["/api/v1/reports/tools?by=tool", ["tools", "--by", "tool"]],
      ["/api/v1/reports/degradations?by=day,resource", ["degradations", "--by", "day,resource"]],
    ];
    for (const [url, args] of cases) {
      const response = await server.app.request(url);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(await tallyJson([...args, "--db", path], { timeZone: "UTC" }));
    }
  });

  test("percentiles=false: the same sums, p50/p95 left out (null); the CLI's --no-percentiles alike", async () => {
    const path = knownDb();
    const { server } = serverOn(path);
    for (const kind of ["usage", "tools"] as const) {
      const by = kind === "usage" ? "repo,day" : "tool,day";
      const full = (await (await server.app.request(`/api/v1/reports/${kind}?by=${by}`)).json()) as any;
      const sums = (await (await server.app.request(`/api/v1/reports/${kind}?by=${by}&percentiles=false`)).json()) as any;
      const strip = (row: any) => ({ ...row, p50DurationMs: null, p95DurationMs: null });
      expect(full.rows.length).toBeGreaterThan(0);
      expect(full.rows.some((r: any) => r.p95DurationMs !== null)).toBe(true);
      expect(sums.rows).toEqual(full.rows.map(strip));
      expect(sums.totals).toEqual(strip(full.totals));
      const cli = await tallyJson([kind === "usage" ? "report" : "tools", "--by", by, "--no-percentiles", "--db", path], { timeZone: "UTC" });
      expect(cli).toEqual(sums);
    }
    expect((await server.app.request("/api/v1/reports/degradations?percentiles=false")).status).toBe(400);
  });

  test("wrong options are 400 with the option named", async () => {
    const { server } = serverOn(knownDb());
    for (const [url, pattern] of [
      ["/api/v1/reports/usage?by=nope", /cannot group by 'nope'/],
      ["/api/v1/reports/usage?since=tomorrowish", /since|time/i],
      ["/api/v1/reports/usage?tz=Mars/Olympus", /zone/i],
      ["/api/v1/reports/usage?sort=bogus", /cannot sort by/],
      ["/api/v1/reports/usage?limit=-1", /limit/],
      ["/api/v1/reports/degradations?sort=runs", /no sort/],
      ["/api/v1/runs?cursor=garbage", /cursor/],
      ["/api/v1/runs?limit=abc", /limit/],
      [`/api/v1/reports/usage?repo=${"x".repeat(2000)}`, /repo/],
    ] as const) {
      const response = await server.app.request(url);
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toMatch(pattern);
    }
  });

  test("runs: newest first, filtered, paged by cursor without gaps or repeats", async () => {
    const { server } = serverOn(knownDb());
    const seen: string[] = [];
    let url: string | null = "/api/v1/runs?limit=3&repo=acme/*";
    let pages = 0;
    while (url !== null) {
      const page = (await (await server.app.request(url)).json()) as any;
      seen.push(...page.runs.map((r: any) => r.createdAt));
      url = page.nextCursor === null ? null : `/api/v1/runs?limit=3&repo=acme/*&cursor=${page.nextCursor}`;
      pages++;
    }
    // known-db: runs 1, 2, 3, 4, 6, 7, 8, 10 are acme/*; 8 runs in pages of 3.
    expect(pages).toBe(3);
    expect(seen.length).toBe(8);
    expect([...seen].sort().reverse()).toEqual(seen);
    const all = (await (await server.app.request("/api/v1/runs?limit=500")).json()) as any;
    expect(all.runs.length).toBe(10);
    expect(all.nextCursor).toBeNull();
  });

  test("cursors carry any id: non-Latin-1 and lone surrogates page without gaps, repeats or a 500", async () => {
    const { server } = serverOn();
    const ids = ["日本-1", "é-2", "\ud800-3", "emoji-😀-4"];
    await post(server, ids.map((id) => run(id)));
    const seen: string[] = [];
    let url: string | null = "/api/v1/runs?limit=1";
    while (url !== null) {
      const response = await server.app.request(url);
      expect(response.status).toBe(200);
      const page = (await response.json()) as any;
      seen.push(...page.runs.map((r: any) => r.id));
      url = page.nextCursor === null ? null : `/api/v1/runs?limit=1&cursor=${page.nextCursor}`;
    }
    // One created_at for all: the order is by id, descending, and every run is seen once.
    expect(seen.length).toBe(4);
    expect(new Set(seen).size).toBe(4);
  });

  test("a run with what happened around it; 404 for an unknown id", async () => {
    const { server } = serverOn();
    await post(server, [
      run("r-with-tools", { sessionId: "s9", deliveryId: "d9", eventType: "pull_request", durationMs: 60_000 }),
      { kind: "toolCall", id: "tc1", toolName: "read_file", outcome: "ok", executionId: "r-with-tools", createdAt: "2026-11-22T09:59:30Z" },
      { kind: "toolCall", id: "tc2", toolName: "far_away", outcome: "ok", executionId: "other", createdAt: "2026-11-22T09:59:30Z" },
      { kind: "rateLimitEvent", id: "rl1", resource: "search", degradation: "partial", deliveryId: "d9", eventType: "pull_request", createdAt: "2026-11-22T09:59:40Z" },
      { kind: "cacheEvent", id: "ce1", cache: "diffs", outcome: "miss", deliveryId: "d9", eventType: "pull_request", createdAt: "2026-11-22T09:59:10Z" },
      { kind: "sessionStart", id: "s9", source: "github", startedAt: "2026-11-22T09:58:00Z" },
    ]);
    const detail = (await (await server.app.request("/api/v1/runs/r-with-tools")).json()) as any;
    expect(detail.run.id).toBe("r-with-tools");
    expect(detail.toolCalls.map((t: any) => t.id)).toEqual(["tc1"]);
    expect(detail.rateLimitEvents.map((e: any) => e.id)).toEqual(["rl1"]);
    expect(detail.cacheEvents.map((e: any) => e.id)).toEqual(["ce1"]);
    expect(detail.session.id).toBe("s9");
    expect((await server.app.request("/api/v1/runs/nope")).status).toBe(404);
    expect((await server.app.request("/api/v1/sessions/nope")).status).toBe(404);
  });

  test("the OpenAPI document lists every read route", async () => {
    const { server } = serverOn();
    const doc = (await (await server.app.request("/api/v1/openapi.json")).json()) as any;
    expect(Object.keys(doc.paths).sort()).toEqual(["/api/v1/reports/degradations", "/api/v1/reports/tools", "/api/v1/reports/usage", "/api/v1/runs", "/api/v1/runs/{id}", "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/tool-calls"]);
    expect(doc.paths["/api/v1/runs"].get.parameters.map((p: any) => p.name)).toContain("cursor");
  });
});

describe("operations", () => {
  test("metrics count requests by route pattern and records by kind and outcome, no free-form labels", async () => {
    const { server } = serverOn();
    await post(server, [run("m1"), run("m1")]);
    await server.app.request("/api/v1/runs/some-run-id");
    await server.app.request("/no/such/path/secret-value");
    const text = await (await server.app.request("/metrics")).text();
    expect(text).toContain('tally_ingest_records_total{kind="execution",outcome="accepted"} 1');
    expect(text).toContain('tally_ingest_records_total{kind="execution",outcome="duplicate"} 1');
    expect(text).toContain('tally_http_requests_total{route="/v1/batch",status="200"} 1');
    expect(text).toContain('route="/api/v1/runs/:id"');
    expect(text).not.toContain("some-run-id");
    expect(text).not.toContain("secret-value");
    expect(text).toContain("tally_store_write_seconds_bucket");
  });

  test("readyz is 200 while the store takes writes and 503 once it cannot", async () => {
    const { server, store } = serverOn();
    expect((await server.app.request("/readyz")).status).toBe(200);
    store.close();
    expect((await server.app.request("/readyz")).status).toBe(503);
    expect((await server.app.request("/api/v1/reports/usage")).status).toBe(503);
  });
});
