/**
 * Wrong invocations and unusable databases: one clear line on stderr (and at most a hint),
 * exit 2 for usage errors and 1 for failures, never a stack trace. Plus --help and --version.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { expectCleanError, tally } from "./harness.ts";
import { knownDb } from "./known-db.ts";

let db: string;
let corrupt: string;
let directory: string;
let missing: string;

beforeAll(() => {
  db = knownDb();
  const dir = tempDir();
  corrupt = join(dir, "corrupt.db");
  writeFileSync(corrupt, Uint8Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) & 0xff));
  directory = join(dir, "a-directory");
  mkdirSync(directory);
  missing = join(dir, "missing.db");
});
afterAll(removeTempDirs);

describe("usage errors: exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown command close to one: a did-you-mean hint", ["reprot"], /^tally: unknown command 'reprot'$/],
    ["an unknown command close to another", ["tool"], /^tally: unknown command 'tool'$/],
    ["an unknown flag", ["report", "--bogus"], /^tally report: Unknown option '--bogus'$/],
    ["a positional argument where none is taken", ["report", "extra"], /^tally report: Unexpected argument 'extra'/],
    ["--format xml", ["report", "--format", "xml"], /^tally report: --format must be one of table, json, csv, not 'xml'$/],
    ["--since someday", ["report", "--since", "someday"], /^tally report: cannot read 'someday' as a time/],
    ["--tz Mars/Olympus", ["report", "--tz", "Mars/Olympus"], /^tally report: 'Mars\/Olympus' is not a time zone/],
    ["--since 2026-02-30", ["report", "--since", "2026-02-30"], /^tally report: '2026-02-30' is not a calendar date$/],
    ["--since 0d", ["report", "--since", "0d"], /^tally report: '0d' is empty: use 1d for the last 24 hours, or today$/],
    ["--until 13:00 (no date)", ["report", "--until", "13:00"], /cannot read '13:00' as a time/],
    ["--since after --until", ["report", "--since", "2026-11-20", "--until", "2026-11-10"], /^tally report: --since must be before --until$/],
    ["--since equal to --until", ["report", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-20T00:00:00Z"], /--since must be before --until/],
    ["--limit 0", ["report", "--limit", "0"], /^tally report: --limit takes a positive whole number, not '0'$/],
    ["--limit abc", ["report", "--limit", "abc"], /^tally report: --limit takes a positive whole number, not 'abc'$/],
    ["--limit -1", ["tools", "--limit=-1"], /--limit takes a positive whole number, not '-1'/],
    ["--sort on a field that does not exist", ["tools", "--sort", "cost"], /^tally tools: cannot sort by 'cost'$/],
    ["--by on a dimension that does not exist", ["degradations", "--by", "model"], /^tally degradations: cannot group by 'model'$/],
    ["purge without --older-than", ["purge"], /^tally purge: --older-than is required$/],
    ["an empty --db", ["report", "--db", ""], /^tally report: --db needs a path$/],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const withDb = args.includes("--db") ? args : [...args, "--db", db];
      expectCleanError(await tally(withDb), 2, message);
    });
  }

  test("the did-you-mean hints", async () => {
    expect((await tally(["reprot"])).stderr).toContain("hint: did you mean `tally report`?");
    expect((await tally(["tool"])).stderr).toContain("hint: did you mean `tally tools`?");
    expectCleanError(await tally(["frobnicate"]), 2, /^tally: unknown command 'frobnicate'$/);
    expect((await tally(["frobnicate"])).stderr).toContain("hint: run `tally --help` for the list");
  });

  test("a bad value is a usage error even when the database is missing too", async () => {
    for (const args of [["report", "--limit", "abc"], ["report", "--sort", "bogus"], ["tools", "--limit", "0"], ["report", "--since", "someday"], ["report", "--tz", "Nowhere/Land"], ["purge"]]) {
      expectCleanError(await tally([...args, "--db", missing]), 2, /./);
    }
  });
});

describe("unusable databases: exit 1 with a hint", () => {
  for (const command of [["report"], ["tools"], ["degradations"], ["checkpoint"], ["purge", "--older-than", "90d"], ["migrate"]]) {
    test(`${command[0]}: a missing file, a directory, a corrupt file`, async () => {
      const none = await tally([...command, "--db", missing]);
      expectCleanError(none, 1, new RegExp(`^tally ${command[0]}: no database at ${missing}$`));
      expect(none.stderr).toContain("--db");
      expect(existsSync(missing)).toBe(false);

      expectCleanError(await tally([...command, "--db", directory]), 1, /a-directory/);

      const before = readFileSync(corrupt);
      const bad = await tally([...command, "--db", corrupt]);
      expectCleanError(bad, 1, /file is not a database/);
      expect(bad.stderr).toMatch(/hint: /);
      expect(readFileSync(corrupt).equals(before)).toBe(true);
    });
  }

  test("TALLY_DB is used when --db is not given; --db wins over it", async () => {
    const fromEnv = await tally(["report", "--json"], { env: { TALLY_DB: db } });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout).totals.runs).toBe(10);
    expectCleanError(await tally(["report", "--db", missing], { env: { TALLY_DB: db } }), 1, /no database at/);
  });
});

describe("--help and --version", () => {
  const FLAGS: Record<string, string[]> = {
    report: ["--by", "--since", "--until", "--repo", "--model", "--event", "--sort", "--limit", "--exact"],
    tools: ["--by", "--since", "--until", "--tool", "--server", "--sort", "--limit"],
    degradations: ["--by", "--since", "--until", "--repo"],
    purge: ["--older-than", "--dry-run"],
    checkpoint: ["--truncate"],
    doctor: ["--quick"],
    migrate: [],
  };
  const GLOBAL = ["--db", "--format", "--json", "--no-color", "--help"];

  for (const [command, flags] of Object.entries(FLAGS)) {
    test(`${command} --help lists its flags (exit 0, nothing else done)`, async () => {
      for (const help of ["--help", "-h"]) {
        const run = await tally([command, help, "--db", missing]);
        expect(run.code).toBe(0);
        expect(run.stderr).toBe("");
        expect(run.stdout).toStartWith(`Usage: tally ${command}`);
        for (const flag of [...flags, ...GLOBAL]) expect(run.stdout).toMatch(new RegExp(`^ +(-\\w, )?${flag}\\b`, "m"));
      }
      expect((await tally(["help", command])).stdout).toBe((await tally([command, "--help"])).stdout);
    });
  }

  test("tally --help and tally with nothing list the commands", async () => {
    for (const args of [["--help"], ["-h"], []]) {
      const run = await tally(args);
      expect(run.code).toBe(0);
      for (const command of Object.keys(FLAGS)) expect(run.stdout).toMatch(new RegExp(`^ +${command} +\\S`, "m"));
    }
  });

  test("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8"));
    for (const flag of ["--version", "-v"]) expect(await tally([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });
});
