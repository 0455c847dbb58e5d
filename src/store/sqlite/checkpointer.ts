import { createRequire } from "node:module";
import type { Worker } from "node:worker_threads";
import { safeLog, type Logger } from "../../core/logger.ts";
import type { DriverName } from "./load-driver.ts";

/** Runs the automatic checkpoints somewhere that does not hold up the writer. */
export interface Checkpointer {
  /** Asks for a PASSIVE checkpoint; one in flight at a time, extra requests fold into it. */
  request(): void;
  /** Checkpoints done off-thread so far (for tests and stats). */
  readonly completed: number;
  close(): void;
}

/**
 * A checkpointer on a worker thread with its own connection. Returns null when a worker
 * cannot be started here; the store then checkpoints on its own thread, as before.
 */
export function startWorkerCheckpointer(options: { path: string; driver: DriverName; busyTimeoutMs: number; logger: Logger }): Checkpointer | null {
  // Under Bun from a checkout the sources are .ts; in the built package they are .js.
  const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
  let worker: Worker;
  try {
    // Loaded here, not with the module: node:worker_threads costs Bun ~8 ms, which a store
    // that checkpoints on its own thread (every `tally` command) should not pay.
    const { Worker } = createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");
    worker = new Worker(new URL(`./checkpoint-worker.${extension}`, import.meta.url), {
      workerData: { path: options.path, driver: options.driver, busyTimeoutMs: options.busyTimeoutMs },
    });
  } catch (error) {
    safeLog(options.logger, "debug", { error: String(error) }, "tally: no checkpoint worker; checkpointing on the writer's thread");
    return null;
  }
  let inFlight = false;
  let wanted = false;
  let completed = 0;
  let warned = false;
  worker.on("message", (result: { ok: boolean; error?: string }) => {
    inFlight = false;
    if (result.ok) completed++;
    else if (!warned) {
      warned = true;
      safeLog(options.logger, "warn", { error: result.error }, "tally: background WAL checkpoint failed; SQLite's own checkpoints still bound the WAL");
    }
    if (wanted) {
      wanted = false;
      inFlight = true;
      worker.postMessage("checkpoint");
    }
  });
  worker.on("error", (error) => safeLog(options.logger, "warn", { error: error.message }, "tally: checkpoint worker stopped"));
  // After the listeners: adding a "message" listener refs the port again (Node and Bun alike).
  worker.unref(); // never keeps the process alive
  safeLog(options.logger, "debug", { path: options.path }, "tally: automatic checkpoints run on a worker thread");
  return {
    request() {
      if (inFlight) {
        wanted = true;
        return;
      }
      inFlight = true;
      worker.postMessage("checkpoint");
    },
    get completed() {
      return completed;
    },
    close() {
      void worker.terminate();
    },
  };
}
