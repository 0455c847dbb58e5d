import { formatBytes, formatCount } from "../../report/format/units.ts";
import { openSqliteStore, SCHEMA_VERSION, type DatabaseInspection } from "../../store/sqlite/index.ts";
import type { Command, CommandContext } from "../command.ts";
import { openPostgres, usesPostgres } from "../open-postgres.ts";
import { redactUrl } from "../../store/postgres/url.ts";
import { EXIT } from "../errors.ts";
import { databasePathProblem, type PathProblem } from "../open-database.ts";

/** One line of the diagnosis. */
interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  /** What to do about it. */
  fix?: string;
}

const WAL_WARN_BYTES = 256 * 1024 * 1024;
const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString().replace(".000Z", "Z"));

/** The path's problem as the failing `file` line, worded for a checklist. */
function pathCheck(dbPath: string, problem: PathProblem): Check {
  switch (problem.kind) {
    case "missing":
      return { name: "file", status: "fail", detail: problem.message, fix: "point at one with --db PATH or TALLY_DB" };
    case "directory":
      return { name: "file", status: "fail", detail: `${dbPath} is a directory`, fix: "pass the database file itself with --db" };
    case "unreadable":
      return { name: "file", status: "fail", detail: problem.message, fix: problem.hint };
  }
}

function diagnose(dbPath: string, quick: boolean): { checks: Check[]; inspection?: DatabaseInspection } {
  const problem = databasePathProblem(dbPath);
  if (problem !== null) return { checks: [pathCheck(dbPath, problem)] };
  const store = openSqliteStore({ path: dbPath, readonly: true, retentionDays: 0 });
  try {
    if (store.unwritableReason?.startsWith("cannot open")) {
      return {
        checks: [{ name: "file", status: "fail", detail: store.unwritableReason, fix: "if it was a Tally database, restore it from a backup; `sqlite3 FILE .recover` may save rows" }],
      };
    }
    const inspection = store.inspect({ quick });
    const checks: Check[] = [];
    const intact = inspection.integrity.length === 1 && inspection.integrity[0] === "ok";
    checks.push(
      intact
        ? { name: "integrity", status: "ok", detail: quick ? "quick_check ok" : "integrity_check ok" }
        : { name: "integrity", status: "fail", detail: inspection.integrity.slice(0, 3).join("; "), fix: "stop writers, back the file up, then `sqlite3 FILE .recover | sqlite3 NEW`" },
    );
    const version = inspection.schemaVersion;
    checks.push(
      version === SCHEMA_VERSION
        ? { name: "schema", status: "ok", detail: `version ${version}` }
        : version < SCHEMA_VERSION
          ? { name: "schema", status: "fail", detail: `version ${version}, this tally writes ${SCHEMA_VERSION}`, fix: `tally migrate --db ${dbPath}` }
          : { name: "schema", status: "fail", detail: `version ${version} is newer than this tally (${SCHEMA_VERSION})`, fix: "upgrade tally" },
    );
    if (version === SCHEMA_VERSION && inspection.missingTables.length > 0) {
      checks.push({
        name: "tables",
        status: "fail",
        detail: `schema version ${version} but missing ${inspection.missingTables.join(", ")} (written by a pre-release build)`,
        fix: "move the file aside and let the service create a new one",
      });
    }
    checks.push({
      name: "size",
      status: inspection.walBytes > WAL_WARN_BYTES ? "warn" : "ok",
      detail: `database ${formatBytes(inspection.fileBytes)}, WAL ${formatBytes(inspection.walBytes)}`,
      ...(inspection.walBytes > WAL_WARN_BYTES ? { fix: `tally checkpoint --truncate --db ${dbPath} (a long-lived reader may be holding the WAL)` } : {}),
    });
    for (const table of inspection.tables) {
      checks.push({ name: table.name, status: "ok", detail: `${formatCount(table.rows)} rows${table.oldest !== null && table.newest !== null ? `, ${iso(table.oldest)} … ${iso(table.newest)}` : ""}` });
    }
    const rollups = rollupCheck(inspection);
    if (rollups !== null) checks.push(rollups);
    if (inspection.unpricedModels.length > 0) {
      const list = inspection.unpricedModels.map((m) => `${m.model} (${formatCount(m.runs)})`).join(", ");
      checks.push({ name: "pricing", status: "warn", detail: `unpriced runs: ${list}`, fix: "give their prices: createTelemetry({ pricing: { prices: { model: { inputMtok, outputMtok } } } })" });
    } else {
      checks.push({ name: "pricing", status: "ok", detail: "every run has a cost" });
    }
    if (inspection.legacyTables.length > 0) {
      checks.push({ name: "legacy", status: "ok", detail: `kept from a pre-versioned database: ${inspection.legacyTables.join(", ")} (rows copied; drop them when you no longer need them)` });
    }
    return { checks, inspection };
  } finally {
    store.close();
  }
}

/**
 * Runs after the hours rolled up beyond which that is worth a warning: reports read them raw
 * (~1.4 µs a run, BENCHMARKS.md), so 100,000 of them add ~0.1 s to every report over them.
 */
const RUNS_AFTER_WARN = 100_000;

/**
 * How far the writer has rolled up closed hours (and quarter hours): runs after that are read
 * from raw rows, so a writer that stopped long ago leaves reports slower (never wrong). Null
 * for a file without hourly rollups.
 */
function rollupCheck(inspection: DatabaseInspection): Check | null {
  const { hours, quarterHours, runsAfter } = inspection.rolledUp;
  if (hours === null) return null;
  const span = (s: { from: number; to: number } | null) => (s === null || s.from >= s.to ? "none yet" : s.from <= 0 ? `up to ${iso(s.to)}` : `${iso(s.from)} … ${iso(s.to)}`);
  const detail = `hours ${span(hours)}, quarter hours ${span(quarterHours)}; ${formatCount(runsAfter)} runs after them, read raw`;
  if (runsAfter <= RUNS_AFTER_WARN) return { name: "rollups", status: "ok", detail };
  return {
    name: "rollups",
    status: "warn",
    detail: `${detail} (reports over them are slower, still exact)`,
    fix: "keep a writer running on the file (tally serve, or your service): each write rolls up a few closed hours",
  };
}

/** PostgreSQL: can we connect, which schema version, which monthly partitions exist (the current month's and the next). */
async function diagnosePostgres(context: CommandContext): Promise<{ checks: Check[]; inspection?: DatabaseInspection }> {
  const { POSTGRES_SCHEMA_VERSION } = await import("../../store/postgres/index.ts");
  const store = await openPostgres(context, { readonly: true });
  try {
    const reason = store.unwritableReason;
    if (reason !== null && reason !== "opened read-only") {
      return { checks: [{ name: "connection", status: "fail", detail: reason, fix: reason.startsWith("no Tally schema") ? "start a writer on it (tally serve --db …) or set TALLY_PG_SCHEMA" : "is PostgreSQL running, and may this user connect?" }] };
    }
    const through = store.behindPooler ? ", through a connection pooler: statements unprepared, no COPY unless asked" : "";
    const checks: Check[] = [{ name: "connection", status: "ok", detail: `${store.displayUrl} (schema ${store.schema})${through}` }];
    const version = store.schemaVersion;
    checks.push(version === POSTGRES_SCHEMA_VERSION
      ? { name: "schema", status: "ok", detail: `version ${version}` }
      : { name: "schema", status: version > POSTGRES_SCHEMA_VERSION ? "fail" : "warn", detail: `version ${version}, this tally writes ${POSTGRES_SCHEMA_VERSION}`, fix: version > POSTGRES_SCHEMA_VERSION ? "upgrade tally" : `tally migrate --db ${redactUrl(context.dbPath)}` });
    const partitions = await store.partitions();
    const month = new Date(context.io.now()).toISOString().slice(0, 7);
    const missing = Object.entries(partitions).filter(([, months]) => !months.includes(month)).map(([table]) => table);
    checks.push(missing.length === 0
      ? { name: "partitions", status: "ok", detail: Object.entries(partitions).map(([t, m]) => `${t}: ${m[0] ?? "-"} … ${m[m.length - 1] ?? "-"} (${m.length})`).join("; ") }
      : { name: "partitions", status: "warn", detail: `no partition for ${month} in ${missing.join(", ")}`, fix: "a writer creates them as it starts (tally serve --db …)" });
    return { checks };
  } finally {
    await store.close();
  }
}

const MARK = { ok: "✓", warn: "!", fail: "✗" } as const;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the database: integrity, schema, size, rows, rollups, unpriced models",
  flags: {
    quick: { type: "boolean", description: "quick_check instead of the full integrity_check (faster on big files)" },
  },
  details: `
Exits 1 when something is wrong (corrupt file, schema too old or too new, missing file), and
says what to do about it; warnings (a large WAL, over 100,000 runs after the hours the writer
has rolled up, unpriced models) exit 0.

Examples:
  tally doctor
  tally doctor --quick --json`,
  async run(context) {
    const { checks, inspection } = usesPostgres(context) ? await diagnosePostgres(context) : diagnose(context.dbPath, context.values.quick === true);
    const healthy = checks.every((c) => c.status !== "fail");
    if (context.format === "json") {
      context.io.stdout.write(`${JSON.stringify({ path: usesPostgres(context) ? redactUrl(context.dbPath) : context.dbPath, healthy, checks, inspection: inspection ?? null }, null, 2)}\n`);
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const check of checks) {
        context.io.stdout.write(`${MARK[check.status]} ${check.name.padEnd(width)}  ${check.detail}\n`);
        if (check.fix) context.io.stdout.write(`  ${" ".repeat(width)}  → ${check.fix}\n`);
      }
      context.io.stdout.write(healthy ? "\nNo problems found.\n" : "\nProblems found: see ✗ above.\n");
    }
    return healthy ? EXIT.ok : EXIT.failure;
  },
};
