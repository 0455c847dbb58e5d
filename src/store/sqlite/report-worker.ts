/**
 * Answers reports on its own read-only connection, off the server's thread: in WAL mode a
 * reader never blocks the writer, and a long report no longer holds up ingest on the event
 * loop. Started by report-workers.ts; one message per report, one answer each.
 */
import { parentPort, workerData } from "node:worker_threads";
import { reportProgram } from "../../report/report-program.ts";
import type { ReportSpec } from "../../report/spec.ts";
import { runProgram } from "../../report/sql/query.ts";
import { sqliteDialect } from "./dialect.ts";
import { inReadTransaction, type SqliteDriver } from "./driver.ts";
import { openDriver, type DriverName } from "./load-driver.ts";

const { path, driver: driverName, busyTimeoutMs } = workerData as { path: string; driver: DriverName; busyTimeoutMs: number };
let connection: SqliteDriver | null = null;

function open(): SqliteDriver {
  const opened = openDriver({ path, readonly: true, driver: driverName });
  opened.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  return opened;
}

parentPort?.on("message", ({ id, spec }: { id: number; spec: ReportSpec }) => {
  try {
    const db = (connection ??= open());
    const report = inReadTransaction(db, () => runProgram(reportProgram(sqliteDialect, spec), (query) => db.prepare(query.sql).all(...query.params)));
    parentPort?.postMessage({ id, ok: true, report });
  } catch (error) {
    parentPort?.postMessage({ id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
