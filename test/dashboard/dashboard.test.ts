/**
 * The dashboard in headless Chromium against a real server on known data. Every number the page
 * shows is compared with the read API's answer for the same window (formatted by the page's own
 * formatters), and the API's with the CLI's; the URL carries the state; nothing leaves the origin.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { formatChange, formatCost, formatCount, formatDuration, formatShare, formatTime, formatUsd, share } from "../../src/server/dashboard/ui/format.ts";
import { tallyJson } from "../cli/harness.ts";
import { execution } from "../contract/rows.ts";
import { api, launch, serveKnownDb, tableCells, watchedPage, type Served, type WatchedPage } from "./harness.ts";

const SINCE = "2026-11-16T00:00:00.000Z";
const UNTIL = "2026-11-23T00:00:00.000Z";
const PREV_SINCE = "2026-11-09T00:00:00.000Z";
const WINDOW = `range=custom&since=${encodeURIComponent(SINCE)}&until=${encodeURIComponent(UNTIL)}`;

setDefaultTimeout(30_000);

let browser: Browser;
let served: Served;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  browser = await launch();
  served = await serveKnownDb();
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

async function open(search: string, options: Parameters<typeof watchedPage>[1] = {}): Promise<WatchedPage> {
  const watched = await watchedPage(browser, options);
  pages.push(watched);
  await watched.page.goto(`${served.url}/${search}`);
  return watched;
}

/** textContent, not innerText: the chart tables sit in closed <details> and are not rendered. */
const text = (page: Page, selector: string) => page.locator(selector).first().textContent().then((t) => (t ?? "").trim());
/** Waits until the view shows the answer for the current URL (not the previous one, kept while loading). */
const settled = (page: Page) =>
  page.waitForFunction(() => {
    // Runs in the page (the test's own types have no DOM).
    const { document, location } = globalThis as any;
    const main = document.querySelector("main");
    return main?.dataset.url === location.search && main.querySelector(':scope > section[aria-busy="false"]') !== null;
  });
const kpi = (page: Page, name: string) => text(page, `[data-kpi="${name}"] .value`);
const change = (page: Page, name: string) => text(page, `[data-kpi="${name}"] .change`);

/** Fails on any console error or page error, and on any request to another origin. */
function expectCleanAndLocal(watched: WatchedPage): void {
  expect(watched.problems).toEqual([]);
  const origin = new URL(served.url).origin;
  const elsewhere = watched.requests.filter((url) => new URL(url).origin !== origin && !url.startsWith("data:"));
  expect(elsewhere).toEqual([]);
}

describe("overview", () => {
  test("every KPI, change, unpriced note and top-list cell equals the read API's numbers (and the API's equal the CLI's)", async () => {
    const w = await open(`?${WINDOW}&tz=UTC&refresh=0`);
    const { page } = w;
    await page.waitForSelector('[data-kpi="cost"]');
    const filters = { tz: "UTC" };
    const current = await api(served.url, "reports/usage", { since: SINCE, until: UNTIL, by: "day,model", ...filters });
    const previous = await api(served.url, "reports/usage", { since: PREV_SINCE, until: SINCE, by: "conclusion", ...filters });
    const t = current.totals;
    const p = previous.totals;
    // The known data: 7 of the ten runs plus the PR run fall in the window, 2 of them unpriced.
    expect(t.runs).toBe(8);
    expect(t.unpricedRuns).toBe(2);
    const cli = await tallyJson(["report", "--db", served.path, "--since", SINCE, "--until", UNTIL, "--by", "day,model", "--tz", "UTC"], { timeZone: "UTC" });
    expect(cli.totals).toEqual(t);
    expect(cli.rows).toEqual(current.rows);

    expect(await kpi(page, "cost")).toBe(formatCost(t.costUsd, t.unpricedRuns));
    expect((await kpi(page, "cost")).endsWith("*")).toBe(true);
    expect(await change(page, "cost")).toBe(formatChange(t.costUsd, p.costUsd));
    expect(await kpi(page, "runs")).toBe(formatCount(t.runs));
    expect(await change(page, "runs")).toBe(formatChange(t.runs, p.runs));
    expect(await kpi(page, "success")).toBe(formatShare(share(t.successes, t.runs)));
    expect(await kpi(page, "input")).toBe(formatCount(t.inputTokens));
    expect(await kpi(page, "output")).toBe(formatCount(t.outputTokens));
    expect(await kpi(page, "cacheRead")).toBe(formatCount(t.cacheReadTokens));
    expect(await kpi(page, "cacheWrite")).toBe(formatCount(t.cacheCreationTokens));
    expect(await change(page, "cacheWrite")).toBe(formatChange(t.cacheCreationTokens, p.cacheCreationTokens));
    expect(await kpi(page, "cacheShare")).toBe(formatShare(share(t.cacheReadTokens, t.inputTokens + t.cacheReadTokens + t.cacheCreationTokens)));
    expect(await kpi(page, "p95")).toBe(formatDuration(t.p95DurationMs));
    expect(await kpi(page, "unpriced")).toBe(formatCount(t.unpricedRuns));
    const note = await text(page, ".unpriced");
    expect(note).toContain(`${t.unpricedRuns} runs could not be priced`);
    expect(note).toContain(current.unpricedModels.join(", "));

    for (const dim of ["repo", "model", "event"]) {
      const top = await api(served.url, "reports/usage", { since: SINCE, until: UNTIL, by: dim, sort: "cost", limit: "10", ...filters });
      const expected = top.rows.map((r: any) => [r.group[dim], formatCost(r.costUsd, r.unpricedRuns), formatCount(r.runs)]);
      expect(expected.length).toBeGreaterThan(1);
      expect(await tableCells(page, `[data-top="${dim}"] table`)).toEqual(expected);
    }

    // The cost chart's table: one row per day, one column per model, the API's values (– where no row).
    const cells = await tableCells(page, ".chart:first-of-type table.data");
    const days = [...new Set(current.rows.map((r: any) => r.group.day))].sort();
    expect(cells.map((row) => row[0])).toEqual(days as string[]);
    const headers = await page.$$eval(".chart:first-of-type table.data thead th", (ths) => ths.map((th) => th.textContent));
    for (const row of current.rows) {
      const cell = cells[days.indexOf(row.group.day)]![headers.indexOf(row.group.model)];
      expect(cell).toBe(formatUsd(row.costUsd));
    }
    expectCleanAndLocal(w);
  });

  test("range, zone and filters change the URL and the numbers; back restores both", async () => {
    const w = await open(`?${WINDOW}&refresh=0`, { timezoneId: "UTC" });
    const { page } = w;
    await settled(page);
    const runsFor = async (query: Record<string, string>) => formatCount((await api(served.url, "reports/usage", { by: "conclusion", ...query })).totals.runs);
    const states: { url: string; runs: string; firstBucket: string }[] = [];
    const record = async () => {
      const firstBucket = await text(page, ".chart:first-of-type table.data tbody th");
      states.push({ url: page.url(), runs: await kpi(page, "runs"), firstBucket });
    };
    await record();
    expect(states[0]!.runs).toBe(await runsFor({ since: SINCE, until: UNTIL }));

    // A filter.
    await page.fill('form.filters input[name="repo"]', "acme/web");
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/repo=acme%2Fweb/);
    await settled(page);
    await record();
    expect(states[1]!.runs).toBe(await runsFor({ since: SINCE, until: UNTIL, repo: "acme/web" }));

    // The zone: day buckets begin at Los Angeles' midnight (run 4, 11-16 00:00Z, lands on 11-15).
    await page.selectOption(".zone select", "America/Los_Angeles");
    await page.waitForURL(/tz=America%2FLos_Angeles/);
    await settled(page);
    await record();
    const la = await api(served.url, "reports/usage", { since: SINCE, until: UNTIL, by: "day,model", repo: "acme/web", tz: "America/Los_Angeles" });
    expect(states[2]!.firstBucket).toBe("2026-11-15");
    expect(states[2]!.firstBucket).toBe(String([...new Set<string>(la.rows.map((r: any) => r.group.day))].sort()[0]));

    // A custom range from the form (the browser's zone is UTC here).
    if ((await page.locator("form.custom").count()) === 0) await page.click("button.chip[aria-expanded]");
    await page.fill('form.custom input[name="since"]', "2026-11-21T00:00");
    await page.fill('form.custom input[name="until"]', "2026-11-22T12:00");
    await page.click('form.custom button[type="submit"]');
    await page.waitForURL(/since=2026-11-21T00%3A00%3A00.000Z/);
    await settled(page);
    await record();
    expect(states[3]!.runs).toBe(await runsFor({ since: "2026-11-21T00:00:00.000Z", until: "2026-11-22T12:00:00.000Z", repo: "acme/web" }));
    expect(new Set(states.map((s) => s.url)).size).toBe(4);
    expect(new Set(states.map((s) => `${s.runs} ${s.firstBucket}`)).size).toBe(4);

    for (let i = states.length - 2; i >= 0; i--) {
      await page.goBack();
      await page.waitForURL(states[i]!.url);
      await settled(page);
      expect(await kpi(page, "runs")).toBe(states[i]!.runs);
      expect(await text(page, ".chart:first-of-type table.data tbody th")).toBe(states[i]!.firstBucket);
    }
    // Filters are kept across views.
    await page.goForward();
    await page.waitForURL(states[1]!.url);
    await page.click('nav a:has-text("Runs")');
    await page.waitForURL(/view=runs.*repo=acme%2Fweb|repo=acme%2Fweb.*view=runs/);
    expectCleanAndLocal(w);
  });
});

describe("runs", () => {
  test("every cell of the runs table equals the API's runs, newest first", async () => {
    const w = await open(`?view=runs&${WINDOW}&tz=UTC&refresh=0`);
    await w.page.waitForSelector("tr[data-run]");
    const { runs } = await api(served.url, "runs", { since: SINCE, until: UNTIL, limit: "50" });
    const expected = runs.map((r: any) => [
      formatTime(r.createdAt, "UTC"), r.repo, r.eventType, r.model, r.conclusion,
      `${formatCount(r.inputTokens)} / ${formatCount(r.outputTokens)}`, r.costSource === "unpriced" ? "unpriced" : formatUsd(r.costUsd), formatDuration(r.durationMs),
    ]);
    expect(expected).toHaveLength(8);
    expect(await tableCells(w.page, "table.runs")).toEqual(expected);
    // An unpriced run says so; it is never $0.
    expect(expected.filter((row: string[]) => row[6] === "unpriced")).toHaveLength(2);
    expectCleanAndLocal(w);
  });

  test("a run's page shows its fields, tool calls on a timeline, its events, its session and its PR link", async () => {
    const w = await open(`?view=run&id=run-pr-42&tz=UTC&refresh=0`);
    const { page } = w;
    await page.waitForSelector("#run-title");
    expect(await page.getAttribute("a.pr", "href")).toBe("https://github.com/acme/api/pull/42");
    expect(await tableCells(page, '[data-table="tool-calls"]')).toEqual([
      ["2026-11-20 11:59:10", "get_file", "github", "ok", "1.5 s", ""],
      ["2026-11-20 11:59:30", "search_code", "github", "tool_error", "2.5 s", "timeout"],
    ]);
    expect(await page.locator(".timeline li").count()).toBe(2);
    expect(await tableCells(page, '[data-table="rate-limit-events"]')).toEqual([["2026-11-20 11:59:40", "graphql", "partial", "2", "1", "0 / 5000"]]);
    expect(await tableCells(page, '[data-table="cache-events"]')).toEqual([["2026-11-20 11:59:05", "pr-diffs", "miss"]]);
    const fields = await page.locator("dl.fields").first().innerText();
    for (const value of ["delivery-42", "claude-sonnet-4-5", "1,200", "5,000", "250", "$0.50 (reported)", "1.0 min", "end_turn", "session-42"]) expect(fields).toContain(value);
    const session = await page.locator("dl[data-session]").innerText();
    expect(session).toContain("review-bot 1.4.0");
    // The session link lists that session's runs.
    await page.click('a:has-text("this session\'s runs")');
    await page.waitForURL(/session=session-42/);
    await page.waitForSelector('tr[data-run="run-pr-42"]');
    expect(await page.locator("tr[data-run]").count()).toBe(1);
    expectCleanAndLocal(w);
  });

  test("live refresh shows a run recorded after the page loaded, without reloading", async () => {
    const w = await open(`?view=runs&range=1h&refresh=1`);
    const { page } = w;
    await page.waitForSelector("table.runs");
    await page.evaluate(() => ((globalThis as { loadedOnce?: boolean }).loadedOnce = true));
    const id = `live-${Date.now()}`;
    const written = served.store.write([execution({ id, createdAt: Date.now() - 1000, repo: "acme/live", model: "claude-haiku-4-5" })]);
    expect(written.ok).toBe(true);
    const started = Date.now();
    await page.waitForSelector(`tr[data-run="${id}"]`, { timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(3000); // within the 1 s interval plus a request
    expect(await page.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expectCleanAndLocal(w);
  });
});

describe("tools, degradations and caches", () => {
  test("the tools table and a tool's recent failing calls equal the API's", async () => {
    const w = await open(`?view=tools&${WINDOW}&tz=UTC&refresh=0`);
    const { page } = w;
    await page.waitForSelector('[data-table="tools"] tbody tr');
    const report = await api(served.url, "reports/tools", { since: SINCE, until: UNTIL, tz: "UTC", by: "tool,server", sort: "calls" });
    expect(await kpi(page, "calls")).toBe(formatCount(report.totals.calls));
    expect(await kpi(page, "errorRate")).toBe(formatShare(report.totals.errorRate));
    expect(await kpi(page, "p95")).toBe(formatDuration(report.totals.p95DurationMs));
    const cells = (await tableCells(page, '[data-table="tools"]')).map((row) => row.slice(0, 8));
    expect(cells).toEqual(
      report.rows.map((r: any) => [r.group.tool, r.group.server, formatCount(r.calls), formatCount(r.errors), formatShare(r.errorRate), formatDuration(r.p50DurationMs), formatDuration(r.p95DurationMs), formatCount(r.sessions)]),
    );
    const sessions = await api(served.url, "sessions", { since: SINCE, until: UNTIL, limit: "10" });
    expect(sessions.sessions.map((x: any) => x.id)).toEqual(["session-42"]);
    expect(await tableCells(page, '[data-table="sessions"]')).toEqual([["2026-11-20 11:58:59", "review-bot", "1.4.0", "mcp", "2026-11-20 12:00:01", "runs"]]);
    await page.click('[data-table="tools"] tr:has(th:text-is("search_code")) a:has-text("recent failures")');
    await page.waitForURL(/tool=search_code/);
    await page.waitForSelector('[data-table="failing-calls"] tbody tr');
    const failing = await api(served.url, "tool-calls", { since: SINCE, until: UNTIL, tool: "search_code", server: "github", outcome: ["tool_error", "protocol_error"], limit: "20" });
    expect(failing.toolCalls.length).toBe(2);
    expect((await tableCells(page, '[data-table="failing-calls"]')).map((row) => row.slice(0, 4))).toEqual(
      failing.toolCalls.map((c: any) => [formatTime(c.createdAt, "UTC"), c.outcome, c.errorType ?? "", formatDuration(c.durationMs)]),
    );
    // From the failing call to its run.
    await page.click('[data-table="failing-calls"] a:has-text("run")');
    await page.waitForURL(/view=run&id=run-pr-42|id=run-pr-42/);
    await page.waitForSelector("a.pr");
    expectCleanAndLocal(w);
  });

  test("degraded share, retries and skipped queries by resource, and cache hit rates equal the API's", async () => {
    const w = await open(`?view=degradations&${WINDOW}&tz=UTC&refresh=0`);
    const { page } = w;
    await page.waitForSelector('[data-table="caches"] tbody tr');
    const report = await api(served.url, "reports/degradations", { since: SINCE, until: UNTIL, tz: "UTC", by: "resource" });
    expect(await kpi(page, "degradedShare")).toBe(formatShare(share(report.totals.degradedRuns, report.totalRuns)));
    expect(await kpi(page, "retries")).toBe(formatCount(report.totals.retryAttempts));
    expect(await kpi(page, "skipped")).toBe(formatCount(report.totals.skippedQueries));
    const resources = await tableCells(page, '[data-table="resources"]');
    expect(resources.map((row) => row.slice(0, 4))).toEqual(
      report.rows.map((r: any) => [r.group.resource, formatCount(r.degradedRuns), formatCount(r.retryAttempts), formatCount(r.skippedQueries)]),
    );
    expect(await tableCells(page, '[data-table="caches"]')).toEqual(
      report.caches.map((c: any) => [c.cache, formatShare(c.hitRate), formatCount(c.hits), formatCount(c.misses), formatCount(c.errors)]),
    );
    // Hit rate per cache per day: the chart's table holds the API's cacheSeries.
    const series = await api(served.url, "reports/degradations", { since: SINCE, until: UNTIL, tz: "UTC", by: "day,resource" });
    expect(series.cacheSeries.length).toBeGreaterThan(2);
    const chart = '.chart:has(h3:text-is("Cache hit rate by cache")) table.data';
    const cells = await tableCells(page, chart);
    const headers = await page.$$eval(`${chart} thead th`, (ths) => ths.map((th) => th.textContent));
    for (const row of series.cacheSeries) {
      expect(cells.find((r) => r[0] === row.group.day)![headers.indexOf(row.cache)]).toBe(formatShare(row.hitRate));
    }
    expectCleanAndLocal(w);
  });
});

describe("read token", () => {
  test("the page asks once, sends the token as a header, never in a URL, and asks again for a wrong one", async () => {
    const token = "dashboard-read-token-0123456789";
    const guarded = await serveKnownDb({ readToken: token });
    try {
      const w = await watchedPage(browser);
      pages.push(w);
      const headers: (string | undefined)[] = [];
      w.page.on("request", (r) => {
        if (r.url().includes("/api/")) headers.push(r.headers().authorization);
      });
      await w.page.goto(`${guarded.url}/?${WINDOW}&tz=UTC&refresh=0`);
      await w.page.waitForSelector("#gate-title");
      await w.page.fill('input[name="token"]', "wrong-token-0123456789abcdef");
      await w.page.click('.gate button[type="submit"]');
      await w.page.waitForSelector("#gate-title");
      await w.page.fill('input[name="token"]', token);
      await w.page.click('.gate button[type="submit"]');
      await w.page.waitForSelector('[data-kpi="runs"]');
      const expected = await api(guarded.url, "reports/usage", { since: SINCE, until: UNTIL, by: "conclusion" }, token);
      expect(await kpi(w.page, "runs")).toBe(formatCount(expected.totals.runs));
      expect(headers).toContain(`Bearer ${token}`);
      // Asked once: another view and a reload need no token again.
      await w.page.reload();
      await w.page.waitForSelector('[data-kpi="runs"]');
      expect(await w.page.locator("#gate-title").count()).toBe(0);
      expect(w.requests.some((url) => url.includes(token))).toBe(false);
      expect(w.page.url()).not.toContain(token);
      // 401s are expected here (that is how the page learns it needs the token); nothing else.
      expect(w.problems.filter((p) => !p.includes("401"))).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});

describe("keyboard", () => {
  test("a skip link comes first; Tab reaches the views, ranges and filters; Enter follows them", async () => {
    const w = await open(`?${WINDOW}&tz=UTC&refresh=0`);
    const { page } = w;
    await settled(page);
    const focused = () => page.evaluate(() => {
      const el = (globalThis as any).document.activeElement;
      return `${el.tagName.toLowerCase()}:${(el.textContent ?? "").trim() || el.getAttribute("name") || ""}`;
    });
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("a:Skip to content");
    const reached: string[] = [];
    for (let i = 0; i < 30 && !reached.includes("a:Tools"); i++) {
      await page.keyboard.press("Tab");
      reached.push(await focused());
    }
    expect(reached).toContain("a:Runs");
    expect(reached.at(-1)).toBe("a:Tools");
    await page.keyboard.press("Enter");
    await page.waitForURL(/view=tools/);
    await settled(page);
    for (let i = 0; i < 40 && (await focused()) !== "input:repo"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("input:repo");
    expectCleanAndLocal(w);
  });
});

describe("serving", () => {
  test("index.html revalidates, assets are immutable and precompressed, the page has a strict CSP", async () => {
    const index = await fetch(`${served.url}/`, { headers: { "accept-encoding": "br" } });
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await index.text();
    const script = /src="(assets\/app-[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    const style = /href="(assets\/app-[0-9a-f]{12}\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    for (const path of [script!, style!]) {
      const raw = await fetch(`${served.url}/${path}`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
      expect(raw.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(raw.headers.get("content-encoding")).toBe("gzip");
      const etag = raw.headers.get("etag")!;
      expect((await fetch(`${served.url}/${path}`, { headers: { "if-none-match": etag } })).status).toBe(304);
    }
    expect((await fetch(`${served.url}/assets/app-000000000000.js`)).status).toBe(404);
  });
});
