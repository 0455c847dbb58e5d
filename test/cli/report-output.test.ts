/**
 * `tally report` output: the same numbers in the table, JSON and CSV; the documented JSON
 * shape; CSV as RFC 4180 with formula-looking fields defused; colour only on a terminal
 * without NO_COLOR; tables that fit a narrow terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execution } from "../contract/rows.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { cells, tableRow, tally } from "./harness.ts";
import { knownDb, writeDb } from "./known-db.ts";

const ESC = "\u001b";

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") record.push(field), records.push(record), (record = []), (field = ""), i++;
    else if (c === "\n") throw new Error(`bare LF outside quotes at ${i}`);
    else field += c;
  }
  if (field !== "" || record.length > 0) throw new Error("last record does not end with CRLF");
  return records;
}

let db: string;
beforeAll(() => {
  db = knownDb();
});
afterAll(removeTempDirs);

describe("table", () => {
  test("--by repo --exact: formatted numbers, totals row, and the unpriced note naming the models", async () => {
    const run = await tally(["report", "--db", db, "--by", "repo", "--exact"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const out = run.stdout;
    // Above the table, what it covers.
    expect(out.split("\n")[0]).toBe("All time (UTC)");
    expect(cells(out.split("\n")[1]!)).toEqual(["Repo", "Runs", "OK", "Fail", "Err", "Input", "Output", "Cache read", "Cache write", "Cost", "Mean", "p50", "p95"]);
    expect(tableRow(out, "acme/api")).toEqual(["acme/api", "5", "3", "1", "1", "4,100", "1,330", "2,600", "450", "$3.56", "8.0s", "5.0s", "20.0s"]);
    expect(tableRow(out, "acme/web")).toEqual(["acme/web", "3", "2", "1", "0", "7,200", "960", "1,000", "200", "$1.16", "24.0s", "30.0s", "40.0s"]);
    expect(tableRow(out, "other/tool")).toEqual(["other/tool", "2", "1", "0", "1", "5,300", "670", "0", "0", "$0.00*", "26.5s", "3.0s", "50.0s"]);
    expect(tableRow(out, "Total")).toEqual(["Total", "10", "6", "2", "2", "16.6K", "2,960", "3,600", "650", "$4.72*", "16.5s", "5.0s", "50.0s"]);
    expect(out).toContain("\n* 2 runs could not be priced (local-llama, mystery-model-1); they count as $0 above.\n");
    // Numbers are right-aligned: the last column ends every line at the same place.
    const lines = out.split("\n\n")[0]!.split("\n").slice(1);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  test("small costs keep four significant digits; no note when every run is priced", async () => {
    const out = (await tally(["report", "--db", db, "--by", "model", "--repo", "acme/*"])).stdout;
    expect(tableRow(out, "gpt-4o")[9]).toBe("$0.1563");
    expect(tableRow(out, "claude-opus-4-1")[9]).toBe("$3.00");
    expect(out).not.toContain("could not be priced");
  });

  test("empty: one line saying so", async () => {
    const run = await tally(["report", "--db", db, "--since", "2026-11-23"]);
    expect(run).toEqual({ code: 0, stdout: "2026-11-23 00:00 UTC → now (UTC)\nNo runs in this range.\n", stderr: "" });
  });
});

describe("JSON", () => {
  test("the documented shape, with raw numbers", async () => {
    const run = await tally(["report", "--db", db, "--by", "repo", "--since", "7d", "--json"]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc).sort()).toEqual(["groupBy", "kind", "range", "rawRowsPurgedBefore", "rows", "source", "totals", "unpricedModels"]);
    expect(doc.kind).toBe("usage");
    expect(doc.groupBy).toEqual(["repo"]);
    expect(doc.range).toEqual({ since: "2026-11-15T15:30:00.000Z", until: null, timeZone: "UTC" });
    expect(doc.source).toBe("rollups");
    const fields = ["group", "runs", "successes", "failures", "errors", "inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens",
      "costUsd", "unpricedRuns", "meanDurationMs", "p50DurationMs", "p95DurationMs"];
    for (const row of [...doc.rows, doc.totals]) expect(Object.keys(row).sort()).toEqual([...fields].sort());
    expect(doc.rows[0]).toMatchObject({ group: { repo: "acme/api" }, runs: 3, inputTokens: 1100, costUsd: 2.8125, unpricedRuns: 0, meanDurationMs: 10000 / 3 });
    expect(doc.totals).toMatchObject({ group: {}, runs: 7, inputTokens: 10600, costUsd: 2.96875, unpricedRuns: 2 });
    expect(doc.unpricedModels).toEqual(["local-llama", "mystery-model-1"]);
  });

  test("--format json is --json", async () => {
    const a = await tally(["report", "--db", db, "--by", "event", "--format", "json"]);
    const b = await tally(["report", "--db", db, "--by", "event", "--json"]);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout).rows).toHaveLength(3);
  });

  test("empty: rows [], zero totals with null durations", async () => {
    const doc = JSON.parse((await tally(["report", "--db", db, "--repo", "nobody", "--json"])).stdout);
    expect(doc.rows).toEqual([]);
    expect(doc.totals).toEqual({
      group: {}, runs: 0, successes: 0, failures: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0,
      cacheCreationTokens: 0, costUsd: 0, unpricedRuns: 0, meanDurationMs: null, p50DurationMs: null, p95DurationMs: null,
    });
    expect(doc.unpricedModels).toEqual([]);
  });
});

describe("CSV", () => {
  test("header, one line per group, TOTAL, CRLF line ends, raw numbers", async () => {
    const run = await tally(["report", "--db", db, "--by", "repo", "--exact", "--format", "csv"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        "repo,runs,successes,failures,errors,input_tokens,output_tokens,cache_read_tokens,cache_creation_tokens,cost_usd,unpriced_runs,mean_duration_ms,p50_duration_ms,p95_duration_ms",
        "acme/api,5,3,1,1,4100,1330,2600,450,3.5625,0,8000,5000,20000",
        "acme/web,3,2,1,0,7200,960,1000,200,1.15625,0,24000,30000,40000",
        "other/tool,2,1,0,1,5300,670,0,0,0,2,26500,3000,50000",
        "TOTAL,10,6,2,2,16600,2960,3600,650,4.71875,2,16500,5000,50000",
        "",
      ].join("\r\n"),
    );
  });

  test("two group columns: TOTAL in the first, the second left empty", async () => {
    const records = parseCsv((await tally(["report", "--db", db, "--by", "month,conclusion", "--format", "csv"])).stdout);
    expect(records[0]!.slice(0, 3)).toEqual(["month", "conclusion", "runs"]);
    expect(records.slice(1).map((r) => r.slice(0, 3))).toEqual([
      ["2026-10", "success", "1"],
      ["2026-11", "error", "2"],
      ["2026-11", "failure", "2"],
      ["2026-11", "success", "5"],
      ["TOTAL", "", "10"],
    ]);
  });

  test("--sort and --limit apply to CSV rows; TOTAL still covers all", async () => {
    const records = parseCsv((await tally(["report", "--db", db, "--by", "repo", "--sort", "cost", "--limit", "1", "--format", "csv"])).stdout);
    expect(records.map((r) => [r[0], r[1], r[9]])).toEqual([["repo", "runs", "cost_usd"], ["acme/api", "5", "3.5625"], ["TOTAL", "10", "4.71875"]]);
  });

  test("empty: the header and a zero TOTAL with empty durations", async () => {
    const run = await tally(["report", "--db", db, "--since", "2026-11-23", "--format", "csv"]);
    expect(run.stdout.split("\r\n").slice(1)).toEqual(["TOTAL,0,0,0,0,0,0,0,0,0,0,,,", ""]);
  });

  test("hostile repo names: quoted per RFC 4180, formula prefixes defused, and they read back", async () => {
    const names = ["=cmd|' /C calc'!A0", 'a,"b"', "+SUM(1)", "-2+3", "@A1", "\tTAB", "multi\nline"];
    const hostile = writeDb(names.map((repo) => execution({ createdAt: Date.parse("2026-11-20T10:00:00Z"), repo, costUsd: 0.25, durationMs: 1000 })));
    const run = await tally(["report", "--db", hostile, "--by", "repo", "--format", "csv"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("\r\n'=cmd|' /C calc'!A0,1,");
    expect(run.stdout).toContain('\r\n"a,""b""",1,');
    expect(run.stdout).toContain('\r\n"multi\nline",1,');
    const records = parseCsv(run.stdout);
    const first = records.slice(1, -1).map((r) => r[0]).sort();
    expect(first).toEqual(["'=cmd|' /C calc'!A0", "'+SUM(1)", "'-2+3", "'@A1", "'\tTAB", 'a,"b"', "multi\nline"].sort());
    for (const record of records) expect(record).toHaveLength(14);
    expect(records.at(-1)!.slice(0, 2)).toEqual(["TOTAL", "7"]);
    // No field a spreadsheet would run as a formula.
    for (const record of records) for (const field of record) expect(field).not.toMatch(/^[=+\-@\t]/);
  });
});

describe("terminal", () => {
  const args = () => ["report", "--db", db, "--by", "repo"];

  test("a terminal gets bold headers and totals", async () => {
    const out = (await tally(args(), { isTTY: true, columns: 200 })).stdout;
    expect(out).toContain(`${ESC}[1mRepo`);
  });

  test("no colour when stdout is not a terminal, with NO_COLOR, with --no-color, or on TERM=dumb", async () => {
    for (const [extra, options] of [
      [[], { isTTY: false }],
      [[], { isTTY: true, columns: 200, env: { NO_COLOR: "1" } }],
      [["--no-color"], { isTTY: true, columns: 200 }],
      [[], { isTTY: true, columns: 200, env: { TERM: "dumb" } }],
    ] as const) {
      const run = await tally([...args(), ...extra], options);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("acme/api");
      expect(run.stdout).not.toContain(ESC);
    }
  });

  test("hostile names cannot put escapes or line breaks into a table", async () => {
    const hostile = writeDb([
      execution({ createdAt: Date.parse("2026-11-20T10:00:00Z"), repo: `evil${ESC}[2J${ESC}]0;pwned\u0007` }),
      execution({ createdAt: Date.parse("2026-11-20T10:00:00Z"), repo: "multi\nline" }),
    ]);
    const out = (await tally(["report", "--db", hostile, "--by", "repo"], { isTTY: true, columns: 200, env: { NO_COLOR: "1" } })).stdout;
    expect(out).not.toContain(ESC);
    expect(out).not.toContain("\u0007");
    // Range, header, rule, two rows, rule, totals: a name with a line break is still one row.
    expect(out.trimEnd().split("\n")).toHaveLength(7);
  });

  test("a 60-column terminal: low-priority columns go and every line fits", async () => {
    for (const by of ["repo", "repo,model", "day", "event"]) {
      const run = await tally(["report", "--db", db, "--by", by, "--repo", "acme/*"], { isTTY: true, columns: 60 });
      const plain = run.stdout.replace(/\u001b\[[0-9;]*m/g, "");
      for (const line of plain.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
      const header = plain.split("\n")[1]!;
      expect(header).toContain("Runs");
      expect(header).toContain("Cost");
      expect(header).not.toContain("Cache write");
      expect(plain).toContain("Total");
    }
  });

  test("a wide terminal keeps every column; a pipe is never cut", async () => {
    const wide = (await tally(args(), { isTTY: true, columns: 200 })).stdout.replace(/\u001b\[[0-9;]*m/g, "");
    const piped = (await tally(args(), { isTTY: false })).stdout;
    for (const out of [wide, piped]) expect(cells(out.split("\n")[1]!)).toHaveLength(13);
  });
});
