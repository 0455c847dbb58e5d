/**
 * Runs WAL checkpoints on its own connection, off the writer's thread: in WAL mode a PASSIVE
 * checkpoint from another connection never blocks the writer, and its fsync no longer stalls
 * the host's event loop. Started by checkpointer.ts; one message per requested checkpoint.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SqliteDriver } from "./driver.ts";
import { openDriver, type DriverName } from "./load-driver.ts";

const { path, driver: driverName, busyTimeoutMs } = workerData as { path: string; driver: DriverName; busyTimeoutMs: number };
let connection: SqliteDriver | null = null;

parentPort?.on("message", () => {
  try {
    connection ??= openDriver({ path, readonly: false, driver: driverName });
    connection.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const row = connection.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() ?? {};
    parentPort?.postMessage({ ok: true, log: Number(row.log), checkpointed: Number(row.checkpointed) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
