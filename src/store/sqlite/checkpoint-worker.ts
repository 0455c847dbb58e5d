/**
 * Runs WAL checkpoints on its own connection, off the writer's thread: in WAL mode a PASSIVE
 * checkpoint from another connection never blocks the writer, and its fsync no longer stalls
 * the host's event loop. Started by checkpointer.ts; one message per requested checkpoint.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SqliteStatement } from "./driver.ts";
import { openDriver, type DriverName } from "./load-driver.ts";

const { path, driver: driverName, busyTimeoutMs } = workerData as { path: string; driver: DriverName; busyTimeoutMs: number };
let checkpoint: SqliteStatement | null = null;

/** The connection, opened and set up once, at the first request. */
function passiveCheckpoint(): SqliteStatement {
  const connection = openDriver({ path, readonly: false, driver: driverName });
  connection.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  return connection.prepare("PRAGMA wal_checkpoint(PASSIVE)");
}

parentPort?.on("message", () => {
  try {
    checkpoint ??= passiveCheckpoint();
    const row = checkpoint.get() ?? {};
    parentPort?.postMessage({ ok: true, log: Number(row.log), checkpointed: Number(row.checkpointed) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
