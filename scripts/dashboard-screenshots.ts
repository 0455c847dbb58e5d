/**
 * `bun scripts/dashboard-screenshots.ts`: screenshots of every dashboard view in light, dark and
 * at 390 px wide, on the demo data (`tally serve --demo`'s, with a fixed clock so they do not
 * change from run to run), into docs/screenshots/. Needs Chromium (TALLY_CHROMIUM, default
 * /usr/bin/chromium).
 */
import { mkdirSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { recordDemoHistory } from "../src/cli/demo-data.ts";
import { createTelemetry } from "../src/core/telemetry.ts";
import { startServer } from "../src/server/start.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const NOW = Date.parse("2026-11-22T15:30:00Z");
const OUT = new URL("../docs/screenshots/", import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

const store = openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "tally-shots-")), "demo.db"), retentionDays: 0, now: () => NOW });
const clock = { now: () => NOW, setTimeout: (f: () => void, ms: number) => setTimeout(f, ms), clearTimeout: (h: unknown) => clearTimeout(h as number) };
const telemetry = createTelemetry({ store, flushOnExit: false, clock });
recordDemoHistory(telemetry, NOW);
await telemetry.flush();
const server = await startServer({ store, port: 0, now: () => NOW });

const window = `range=custom&since=${new Date(NOW - 48 * 3_600_000).toISOString()}&until=${new Date(NOW).toISOString()}&tz=UTC&refresh=0`;
const runs = (await (await fetch(`${server.url}/api/v1/runs?until=${new Date(NOW).toISOString()}&limit=500`)).json()) as { runs: { id: string }[] };
let runId = runs.runs[0]!.id;
for (const run of runs.runs) {
  const detail = (await (await fetch(`${server.url}/api/v1/runs/${run.id}`)).json()) as { rateLimitEvents: unknown[]; cacheEvents: unknown[]; toolCalls: unknown[] };
  if (detail.rateLimitEvents.length > 0 && detail.cacheEvents.length > 0 && detail.toolCalls.length >= 4) {
    runId = run.id;
    break;
  }
}
const views: [string, string][] = [
  ["overview", `?${window}`],
  ["runs", `?view=runs&${window}`],
  ["run", `?view=run&id=${encodeURIComponent(runId)}&${window}`],
  ["tools", `?view=tools&${window}&tool=search_code&server=github`],
  ["degradations", `?view=degradations&${window}`],
];
const browser = await chromium.launch({ executablePath: process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
for (const [variant, colorScheme, width] of [["light", "light", 1280], ["dark", "dark", 1280], ["390px", "light", 390]] as const) {
  const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 }, timezoneId: "UTC", locale: "en-US", deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  for (const [name, search] of views) {
    await page.goto(`${server.url}/${search}`);
    await page.waitForFunction(() => document.querySelector('main > section[aria-busy="false"]') !== null);
    await page.waitForTimeout(150); // uPlot draws on the next frame
    const file = join(OUT, `${name}-${variant}.png`);
    // A page of 50 runs is long: the first screens show what it looks like.
    const height = (await page.evaluate(() => (globalThis as any).document.documentElement.scrollHeight)) as number;
    await page.screenshot({ path: file, fullPage: true, ...(height > 2400 ? { clip: { x: 0, y: 0, width, height: 2400 } } : {}) });
    console.log(file);
  }
  await context.close();
}
await browser.close();
await server.close();
await telemetry.shutdown();
