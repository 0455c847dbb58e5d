import { createRequire } from "node:module";
import type { Worker } from "node:worker_threads";
import { safeLog, type Logger } from "../../core/logger.ts";
import { reportProgram } from "../../report/report-program.ts";
import type { Report, ReportSpec } from "../../report/spec.ts";
import { sqliteDialect } from "./dialect.ts";
import type { DriverName } from "./load-driver.ts";

/** Reports answered on worker threads, each with its own read-only connection to the file. */
export interface ReportWorkers {
  /** Answers a report as `store.report` does; a spec it refuses (an unknown zone, say) throws here, before any thread is asked. */
  report<S extends ReportSpec>(spec: S): Promise<Report<S>>;
  /** Reports answered on the workers so far (for tests and stats). */
  readonly answered: number;
  close(): void;
}

interface Pending {
  id: number;
  spec: ReportSpec;
  resolve(report: unknown): void;
  reject(error: Error): void;
}

/**
 * Starts `workers` threads (`tally serve`: one per core, at most 4) that answer reports on the
 * SQLite file at `path`, so that a view's reports run side by side and never hold up ingest on
 * the server's thread. Returns null when a worker cannot be started here: reports then stay on
 * the store's own thread.
 */
export function startReportWorkers(options: { path: string; driver: DriverName; workers: number; busyTimeoutMs?: number; logger: Logger }): ReportWorkers | null {
  // Under Bun from a checkout the sources are .ts; in the built package they are .js.
  const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const threads: { worker: Worker; busy: Pending | null; stopped: boolean }[] = [];
  try {
    const { Worker } = createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");
    for (let i = 0; i < options.workers; i++) {
      const worker = new Worker(new URL(`./report-worker.${extension}`, import.meta.url), {
        workerData: { path: options.path, driver: options.driver, busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
      });
      threads.push({ worker, busy: null, stopped: false });
    }
  } catch (error) {
    for (const { worker } of threads) void worker.terminate();
    safeLog(options.logger, "debug", { error: String(error) }, "tally: no report workers; reports run on the server's thread");
    return null;
  }
  const queue: Pending[] = [];
  let nextId = 0;
  let answered = 0;
  let closed = false;

  const dispatch = () => {
    if (threads.every((t) => t.stopped)) {
      for (const pending of queue.splice(0)) pending.reject(new Error("every report worker stopped"));
      return;
    }
    for (const thread of threads) {
      if (thread.busy !== null || thread.stopped) continue;
      const next = queue.shift();
      if (next === undefined) return;
      thread.busy = next;
      thread.worker.ref(); // a report in flight keeps the process alive until it is answered
      thread.worker.postMessage({ id: next.id, spec: next.spec });
    }
  };
  for (const thread of threads) {
    thread.worker.on("message", (reply: { id: number; ok: boolean; report?: unknown; error?: string }) => {
      const pending = thread.busy;
      thread.busy = null;
      thread.worker.unref();
      if (pending !== null && pending.id === reply.id) {
        if (reply.ok) {
          answered++;
          pending.resolve(reply.report);
        } else pending.reject(new Error(reply.error ?? "report failed"));
      }
      dispatch();
    });
    const stop = (why: Error) => {
      if (thread.stopped) return;
      thread.stopped = true;
      if (!closed) safeLog(options.logger, "warn", { error: why.message }, "tally: a report worker stopped");
      thread.busy?.reject(why);
      thread.busy = null;
      dispatch();
    };
    thread.worker.on("error", stop);
    thread.worker.on("exit", () => stop(new Error("a report worker exited")));
    thread.worker.unref(); // never keeps the process alive on its own
  }
  safeLog(options.logger, "debug", { workers: options.workers }, "tally: reports run on worker threads");
  return {
    report<S extends ReportSpec>(spec: S): Promise<Report<S>> {
      if (closed) return Promise.reject(new Error("report workers are closed"));
      // The spec's own mistakes are the caller's, raised here as the store would raise them.
      reportProgram(sqliteDialect, spec);
      return new Promise<Report<S>>((resolve, reject) => {
        queue.push({ id: nextId++, spec, resolve: resolve as (report: unknown) => void, reject });
        dispatch();
      });
    },
    get answered() {
      return answered;
    },
    close() {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(new Error("report workers are closed"));
      for (const thread of threads) {
        thread.busy?.reject(new Error("report workers are closed"));
        thread.busy = null;
        thread.stopped = true;
        void thread.worker.terminate();
      }
    },
  };
}
