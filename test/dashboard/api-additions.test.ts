/**
 * What the dashboard needed from the read API: usage reports filtered by conclusion (from the
 * rollups where they can, equal to the raw rows) and the tool-calls listing behind a tool's
 * failing calls. Through `app.request()` on the known database.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createServerApp } from "../../src/server/app.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { NOW, tallyJson } from "../cli/harness.ts";
import { writeDb, degradationRecords, toolRecords, usageRecords } from "../cli/known-db.ts";

const path = writeDb([...usageRecords(), ...toolRecords(), ...degradationRecords()]);
const store = openSqliteStore({ path, retentionDays: 0, now: () => NOW });
const { app } = createServerApp({ store, now: () => NOW });
afterAll(() => store.close());

const get = async (url: string) => {
  const response = await app.request(url);
  return { status: response.status, body: (await response.json()) as any };
};

describe("usage reports filtered by conclusion", () => {
  test("counts only those runs, equal to a raw scan, by day and by hour, and as the CLI prints it", async () => {
    // Known data: success runs #1 2 4 6 8 9 (6), failure #3 7, error #5 10.
    for (const [conclusion, runs] of [["success", 6], ["failure", 2], ["error", 2], ["fail*", 2]] as const) {
      const rolled = await get(`/api/v1/reports/usage?since=2026-10-01&until=2026-11-23&tz=UTC&by=day&conclusion=${conclusion}`);
      expect(rolled.status).toBe(200);
      expect(rolled.body.totals.runs).toBe(runs);
      const raw = await get(`/api/v1/reports/usage?since=2026-10-01&until=2026-11-23&tz=UTC&by=day&conclusion=${conclusion}&exact=true`);
      expect(rolled.body.rows.map((r: any) => [r.group, r.runs, r.costUsd])).toEqual(raw.body.rows.map((r: any) => [r.group, r.runs, r.costUsd]));
    }
    const hourly = await get("/api/v1/reports/usage?since=2026-11-22T00:00:00Z&until=2026-11-22T15:30:00Z&tz=UTC&by=hour&conclusion=success");
    expect(hourly.body.rows.map((r: any) => [r.group.hour, r.runs])).toEqual([["2026-11-22T09:00Z", 1], ["2026-11-22T14:00Z", 1]]);
    const cli = await tallyJson(["report", "--db", path, "--since", "2026-10-01", "--until", "2026-11-23", "--tz", "UTC", "--conclusion", "error"], { timeZone: "UTC" });
    const api = await get("/api/v1/reports/usage?since=2026-10-01&until=2026-11-23&tz=UTC&conclusion=error");
    expect(cli).toEqual(api.body);
    expect(api.body.unpricedModels).toEqual(["mystery-model-1"]);
  });
});

describe("cache hit rates over time", () => {
  test("a degradations report grouped by day or hour has each cache's lookups per bucket; caches still cover the range", async () => {
    const { body } = await get("/api/v1/reports/degradations?since=2026-11-16&until=2026-11-23&tz=UTC&by=day");
    expect(body.cacheSeries).toEqual([
      { group: { day: "2026-11-16" }, cache: "search", hits: 2, misses: 1, errors: 1, hitRate: 2 / 3 },
      { group: { day: "2026-11-21" }, cache: "files", hits: 1, misses: 2, errors: 0, hitRate: 1 / 3 },
      { group: { day: "2026-11-22" }, cache: "search", hits: 1, misses: 0, errors: 0, hitRate: 1 },
      { group: { day: "2026-11-22" }, cache: "tokens", hits: 0, misses: 0, errors: 1, hitRate: null },
    ]);
    expect(body.caches).toEqual([
      { cache: "files", hits: 1, misses: 2, errors: 0, hitRate: 1 / 3 },
      { cache: "search", hits: 3, misses: 1, errors: 1, hitRate: 3 / 4 },
      { cache: "tokens", hits: 0, misses: 0, errors: 1, hitRate: null },
    ]);
    // Runs in range (from the usage rollups) put the degraded runs in proportion: runs 4 to 10.
    expect(body.totalRuns).toBe(7);
    const byRepo = await get("/api/v1/reports/degradations?since=2026-11-16&until=2026-11-23&tz=UTC&by=repo");
    expect(byRepo.body.cacheSeries).toBeUndefined();
    expect(byRepo.body.caches).toEqual(body.caches);
  });
});

describe("GET /api/v1/tool-calls", () => {
  test("lists calls newest first with tool, server and outcome filters, a page at a time", async () => {
    const failing = await get("/api/v1/tool-calls?since=2026-11-01&until=2026-11-23&tz=UTC&outcome=tool_error&outcome=protocol_error");
    expect(failing.status).toBe(200);
    expect(failing.body.toolCalls.map((c: any) => [c.createdAt, c.toolName, c.outcome])).toEqual([
      ["2026-11-22T11:00:00.000Z", "search_issues", "tool_error"],
      ["2026-11-21T11:00:00.000Z", "get_file", "protocol_error"],
      ["2026-11-16T12:00:00.000Z", "search_code", "tool_error"],
    ]);
    const one = await get("/api/v1/tool-calls?tool=search_code&server=github&outcome=*_error");
    expect(one.body.toolCalls.map((c: any) => c.durationMs)).toEqual([300]);
    // Pages follow the cursor and together hold every call once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await get(`/api/v1/tool-calls?since=2026-10-01&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.body.toolCalls.map((c: any) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  test("a cursor it did not make, a bad limit and a bad range are 400s with a message", async () => {
    expect((await get("/api/v1/tool-calls?cursor=nope")).status).toBe(400);
    expect((await get("/api/v1/tool-calls?limit=9999")).status).toBe(400);
    const range = await get("/api/v1/tool-calls?since=2026-11-22&until=2026-11-01");
    expect(range.status).toBe(400);
    expect(range.body.error.message).toContain("since");
  });

  test("GET /api/v1/sessions lists sessions newest first with their client, a page at a time", async () => {
    const write = store.write([
      { kind: "sessionStart", row: { id: "sess-a", createdAt: Date.parse("2026-11-20T10:00:00Z"), source: "mcp", clientName: "inspector", clientVersion: "0.9" } },
      { kind: "sessionStart", row: { id: "sess-b", createdAt: Date.parse("2026-11-21T10:00:00Z"), source: "claude-code", clientName: "claude-code", clientVersion: "2.1.0" } },
      { kind: "sessionEnd", row: { id: "sess-a", endedAt: Date.parse("2026-11-20T10:30:00Z") } },
    ]);
    expect(write.ok).toBe(true);
    const first = await get("/api/v1/sessions?since=2026-11-19&until=2026-11-22&tz=UTC&limit=1");
    expect(first.body.sessions.map((x: any) => [x.id, x.clientName, x.clientVersion])).toEqual([["sess-b", "claude-code", "2.1.0"]]);
    const second = await get(`/api/v1/sessions?since=2026-11-19&until=2026-11-22&tz=UTC&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.sessions.map((x: any) => [x.id, x.endedAt])).toEqual([["sess-a", "2026-11-20T10:30:00.000Z"]]);
    expect(second.body.nextCursor).toBeNull();
  });

  test("is in the OpenAPI document", async () => {
    const doc = await get("/api/v1/openapi.json");
    expect(Object.keys(doc.body.paths)).toContain("/api/v1/tool-calls");
    expect(Object.keys(doc.body.paths)).toContain("/api/v1/sessions");
    expect(JSON.stringify(doc.body.paths["/api/v1/reports/usage"])).toContain("conclusion");
  });
});
