import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Telemetry } from "../../core/telemetry.ts";
import { TallyConfigError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { isLoopback } from "../../server/loopback.ts";
import { openSqliteStore, type SqliteStore } from "../../store/sqlite/index.ts";
import { redactUrl } from "../../store/postgres/url.ts";
import { openPostgresForCli, usesPostgres } from "../open-postgres.ts";
import type { Command, CommandContext } from "../command.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { checkPath } from "../open-database.ts";

/** How often the demo records a new run while it serves. */
const DEMO_RUN_EVERY_MS = 5_000;

/** A whole-number flag (or its environment variable) in a range; bad values are usage errors. */
function wholeNumber(context: CommandContext, flag: string, envName: string, fallback: number, min: number, max: number): number {
  const raw = (context.values[flag] as string | undefined) ?? (context.io.env[envName] || undefined);
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${flag} takes a whole number from ${min} to ${max}, not '${raw.slice(0, 32)}'`);
  }
  return Number(raw);
}

/** A token from --NAME-token-file (first line), --NAME-token, or the environment, in that order. */
function tokenFrom(context: CommandContext, name: "ingest" | "read"): string | undefined {
  const file = context.values[`${name}-token-file`];
  if (typeof file === "string") {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new CliError(`cannot read --${name}-token-file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "check the path and its permissions");
    }
    return text.split(/\r?\n/)[0]!.trim() || undefined;
  }
  const flag = context.values[`${name}-token`];
  if (typeof flag === "string") return flag;
  return context.io.env[`TALLY_${name.toUpperCase()}_TOKEN`] || undefined;
}

/** The SQLite file a server writes, created if missing; a file it cannot write is a CliError. */
function openFile(dbPath: string, retentionDays: number): SqliteStore {
  checkPath(dbPath, { allowMissing: true });
  const store = openSqliteStore({ path: dbPath, retentionDays });
  if (store.unwritableReason !== null) {
    const reason = store.unwritableReason;
    store.close();
    throw new CliError(reason, "check the path and its permissions; `tally doctor` tells more");
  }
  return store;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "an ingest server (native batches, OpenTelemetry OTLP/HTTP) and the read API, on one port",
  flags: {
    host: { type: "string", valueName: "HOST", description: "address to bind (default 127.0.0.1; another needs both tokens; env TALLY_HOST)" },
    port: { type: "string", valueName: "PORT", description: "port (default 4318, OTLP/HTTP's; 0 picks a free one; env TALLY_PORT)" },
    "ingest-token": { type: "string", valueName: "TOKEN", description: "bearer token for POST /v1/* (prefer TALLY_INGEST_TOKEN or a file: flags show in `ps`)" },
    "ingest-token-file": { type: "string", valueName: "PATH", description: "read the ingest token from the first line of this file" },
    "read-token": { type: "string", valueName: "TOKEN", description: "bearer token for /api/* and /metrics (prefer TALLY_READ_TOKEN or a file)" },
    "read-token-file": { type: "string", valueName: "PATH", description: "read the read token from the first line of this file" },
    cors: { type: "string", multiple: true, valueName: "ORIGIN", description: "let this browser origin call /api/* (none by default)" },
    "max-body-bytes": { type: "string", valueName: "N", description: "largest request body after decompression (default 16777216)" },
    "retention-days": { type: "string", valueName: "DAYS", description: "purge raw rows older than this, at start and daily (default 90; 0 keeps all)" },
    "report-workers": {
      type: "string", valueName: "N",
      description: "threads answering reports on a SQLite file, side by side and off the ingest path (default one per core, at most 4; 0: on the server's thread; env TALLY_REPORT_WORKERS)",
    },
    demo: { type: "boolean", description: "fill the database with three days of demo runs, then add one every 5 s (default database ./data/demo.db)" },
  },
  details: `
Routes: the dashboard at /, POST /v1/batch (Tally's native JSON), POST /v1/traces, /v1/logs,
/v1/metrics (OTLP/HTTP, protobuf or JSON, gzip), GET /api/v1/reports/{usage,tools,degradations},
/api/v1/runs, /api/v1/runs/{id}, /api/v1/tool-calls, /api/v1/sessions, /api/v1/sessions/{id},
/api/v1/openapi.json, /metrics, /healthz, /readyz. Every ingest answer comes after the rows are committed; a full queue
answers 429 with Retry-After. SIGTERM or SIGINT: stop accepting, answer what is in flight,
commit, close, exit 0.

Examples:
  tally serve
  tally serve --db /var/lib/tally/tally.db --port 4318
  tally serve --db postgres://tally@db.internal/tally   # many servers, one PostgreSQL
  TALLY_INGEST_TOKEN=… TALLY_READ_TOKEN=… tally serve --host 0.0.0.0
  tally serve --port 0 --json        # prints { url, … } once listening
  tally serve --demo                 # demo data in ./data/demo.db, to look around`,
  async run(context) {
    const host = (context.values.host as string | undefined) ?? (context.io.env.TALLY_HOST || "127.0.0.1");
    const port = wholeNumber(context, "port", "TALLY_PORT", 4318, 0, 65_535);
    const maxBodyBytes = wholeNumber(context, "max-body-bytes", "TALLY_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, 1024 ** 3);
    const retentionDays = wholeNumber(context, "retention-days", "TALLY_RETENTION_DAYS", 90, 0, 100_000);
    const ingestToken = tokenFrom(context, "ingest");
    const readToken = tokenFrom(context, "read");
    if (!isLoopback(host) && (ingestToken === undefined || readToken === undefined)) {
      throw new UsageError(
        `refusing to listen on ${host} without both an ingest token and a read token`,
        "set TALLY_INGEST_TOKEN and TALLY_READ_TOKEN (or --ingest-token-file / --read-token-file), or bind 127.0.0.1",
      );
    }
    const demo = context.values.demo === true;
    // The demo never writes into a real database unless it is named.
    const dbPath = demo && context.values.db === undefined && !context.io.env.TALLY_DB ? resolve(context.io.cwd, "data/demo.db") : context.dbPath;
    const postgres = usesPostgres({ dbPath });
    const reportWorkers = wholeNumber(context, "report-workers", "TALLY_REPORT_WORKERS", Math.min(4, availableParallelism()), 0, 64);
    const store = postgres ? await openPostgresForCli(context, { retentionDays, maxConnections: 8 }) : openFile(dbPath, retentionDays);
    const shownDb = postgres ? redactUrl(dbPath) : dbPath;
    // PostgreSQL answers reports on its own server processes; a SQLite file gets reader threads.
    const reports = postgres || reportWorkers === 0 ? null
      : (await import("../../store/sqlite/report-workers.ts")).startReportWorkers({ path: dbPath, driver: (store as SqliteStore).driverName, workers: reportWorkers, logger: silentLogger });
    let running;
    try {
      // Loaded here, not at the top: every other `tally` command would pay for Hono, zod,
      // prom-client and the OTLP schemas at start-up (measured: 0.04 s → 0.31 s for --version).
      const { startServer } = await import("../../server/start.ts");
      running = await startServer({ store, reports: reports ?? undefined, host, port, ingestToken, readToken, maxBodyBytes, corsOrigins: context.values.cors as string[] | undefined });
    } catch (error) {
      reports?.close();
      await store.close();
      if (error instanceof TallyConfigError) throw new UsageError(error.message);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new CliError(`port ${port} on ${host} is in use`, "stop what holds it, or pick another with --port");
      throw new CliError(`cannot listen on ${host}:${port}: ${code ?? (error as Error).message}`, "check --host and --port");
    }
    let demoTelemetry: Telemetry | null = null;
    let demoTimer: ReturnType<typeof setInterval> | undefined;
    if (demo) {
      // The telemetry brings the price tables: loaded only for the demo.
      const { createTelemetry } = await import("../../core/telemetry.ts");
      const { recordDemoHistory, recordDemoRun } = await import("../demo-data.ts");
      const telemetry = createTelemetry({ store, flushOnExit: false });
      demoTelemetry = telemetry;
      const runs = recordDemoHistory(telemetry, context.io.now());
      await telemetry.flush();
      context.io.stderr.write(`tally serve: demo data: ${runs} runs over the last 3 days in ${shownDb}; a new one every ${DEMO_RUN_EVERY_MS / 1000} s\n`);
      let live = 0;
      demoTimer = setInterval(() => {
        const now = context.io.now();
        recordDemoRun(telemetry, now, `live-${now}-${live}`, live++);
        void telemetry.flush();
      }, DEMO_RUN_EVERY_MS);
    }
    const auth = { ingest: ingestToken === undefined ? "open" : "token", read: readToken === undefined ? "open" : "token" };
    if (context.format === "json") {
      context.io.stdout.write(`${JSON.stringify({ url: running.url, port: running.port, database: shownDb, auth })}\n`);
    } else {
      context.io.stdout.write(`tally serve: ${running.url} · database ${shownDb} · ingest ${auth.ingest} · read ${auth.read}\n`);
      if (demo) context.io.stdout.write(`  try: curl '${running.url}/api/v1/reports/usage?since=24h&by=model'   (API: ${running.url}/api/v1/openapi.json)\n`);
    }
    const signal = await (context.io.untilStopped ?? untilSignal)();
    await running.close();
    if (demoTimer !== undefined) clearInterval(demoTimer);
    await demoTelemetry?.shutdown(); // flushes the last demo runs; closes the store
    reports?.close();
    await store.close();
    context.io.stderr.write(`tally serve: stopped (${signal}); every acknowledged record is committed\n`);
    return EXIT.ok;
  },
};

/** Resolves with the name of the first SIGTERM or SIGINT. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
