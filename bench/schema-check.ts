/**
 * Supplementary: what the schema's `CHECK (col IN ('a', 'b', 'c'))` constraints cost per
 * inserted row. SQLite evaluates an IN list of constants by filling an ephemeral index once
 * per statement execution (OP_OpenEphemeral … OP_Found), and Tally runs its prepared INSERT
 * once per row, so that setup is paid per row. Written as `col = 'a' OR col = 'b' OR …` the
 * check is a few comparisons. Same table otherwise (TEXT id primary key, created_at index),
 * same rows, the INSERT Tally uses (ON CONFLICT DO NOTHING), BEGIN IMMEDIATE … COMMIT.
 *
 *   bun bench/schema-check.ts
 *   SC_N=100000 SC_ROUNDS=3 bun bench/schema-check.ts
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { uuidv7 } from "uuidv7";
import { SCHEMA_V1 } from "../src/store/sqlite/schema-v1.ts";
import {
  envInt, fmt, INSERT_EXECUTION, loadNow, machineInfo, machineLine, makeExecution, median, ratio, SCHEMA_V1_OR_CHECKS, table,
  tempDir, writeResults,
} from "./lib.ts";

const N = envInt("SC_N", 100_000);
const ROUNDS = envInt("SC_ROUNDS", 3);
const machine = machineInfo();
const { dir, cleanup } = tempDir("schema-check");

const NO_CHECKS = SCHEMA_V1.replace(/ CHECK \((\w+) IN \([^)]*\)\)/g, "").replace(/ CHECK \([^)]*\)/g, "");
const SCHEMAS = { in: SCHEMA_V1, or: SCHEMA_V1_OR_CHECKS, none: NO_CHECKS } as const;
type SchemaName = keyof typeof SCHEMAS;
const LABEL: Record<SchemaName, string> = {
  in: "schema v1 as is: CHECK (cost_source IN (…3 values))",
  or: "same, the IN-list CHECKs written as OR",
  none: "reference: no CHECK constraints at all",
};

const records = Array.from({ length: N }, (_, i) => makeExecution(i, true));
const ids = Array.from({ length: N }, () => uuidv7());
const SQL = `${INSERT_EXECUTION} ON CONFLICT DO NOTHING`;

function run(schema: SchemaName, where: "memory" | "file", perTx: number, tag: string): number {
  const db = new Database(where === "memory" ? ":memory:" : join(dir, `${schema}-${where}-${perTx}-${tag}.db`));
  if (where === "file") {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
  }
  db.exec(SCHEMAS[schema]);
  const insert = db.prepare(SQL);
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < N; i += perTx) {
    db.exec("BEGIN IMMEDIATE");
    for (let j = i; j < Math.min(N, i + perTx); j++) {
      const r = records[j]!;
      insert.run(ids[j]!, 1_700_000_000_000 + j, r.deliveryId!, r.repo!, r.prNumber!, r.eventType!, "anthropic", r.model,
        r.inputTokens!, r.outputTokens!, r.cacheReadTokens!, r.cacheCreationTokens!, r.durationMs!, r.costUsd!, "reported",
        r.conclusion, r.sessionId!, r.numTurns!, r.stopReason!, null);
    }
    db.exec("COMMIT");
  }
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  db.close();
  return N / seconds;
}

function ephemeralOps(schema: SchemaName): number {
  const db = new Database(":memory:");
  db.exec(SCHEMAS[schema]);
  const ops = (db.query(`EXPLAIN ${SQL}`).all() as { opcode: string }[]).filter((r) => r.opcode === "OpenEphemeral").length;
  db.close();
  return ops;
}

const CASES = [
  { where: "memory" as const, perTx: 1000 },
  { where: "file" as const, perTx: 1000 },
  { where: "file" as const, perTx: 50 },
];
const ORDER: SchemaName[] = ["in", "or", "none"];
const rates: Record<string, number[]> = {};
run("in", "memory", 1000, "warm");
for (let round = 0; round < ROUNDS; round++) {
  for (const c of CASES) {
    for (const schema of round % 2 === 0 ? ORDER : [...ORDER].reverse()) {
      const key = `${schema}|${c.where}|${c.perTx}`;
      (rates[key] ??= []).push(run(schema, c.where, c.perTx, String(round)));
    }
  }
  console.error(`  round ${round + 1}/${ROUNDS} done`);
}
cleanup();
const loadAtEnd = loadNow();

const med = (schema: SchemaName, where: string, perTx: number) => median(rates[`${schema}|${where}|${perTx}`]!);
const rows = ORDER.map((schema) => [
  LABEL[schema],
  String(ephemeralOps(schema)),
  ...CASES.flatMap((c) => [fmt(med(schema, c.where, c.perTx), 0), ratio(med(schema, c.where, c.perTx) / med("in", c.where, c.perTx))]),
]);
const markdown = [
  `## schema-check: cost of the CHECK (col IN (…)) constraints on insert`,
  ``,
  machineLine(machine) + `; loadavg at end ${loadAtEnd.join(" ")}`,
  `${N} executions rows per run, ${ROUNDS} rounds, medians; rows/s.`,
  ``,
  table(
    ["executions schema", "OpenEphemeral in the INSERT plan", ...CASES.flatMap((c) => [`${c.where}, ${c.perTx}/tx`, "× as is"])],
    rows,
  ),
].join("\n");
console.log(markdown);
const out = writeResults("schema-check", {
  bench: "schema-check",
  date: new Date().toISOString(),
  command: "bun bench/schema-check.ts",
  params: { N, ROUNDS },
  machine: { ...machine, loadavgAtEnd: loadAtEnd },
  rates,
  markdown,
});
console.error(`wrote ${out}`);
