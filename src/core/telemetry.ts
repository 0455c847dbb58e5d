import type { Clock, TimerHandle } from "./clock.ts";
import { createSystemClock } from "./clock.ts";
import { DropLog } from "./drop-log.ts";
import { TallyConfigError, toError } from "./errors.ts";
import { safeLog, silentLogger, type Logger } from "./logger.ts";
import { closeAll, OPEN_WORK, type OpenWork, type OpenWorkRegistry } from "./open-work.ts";
import { RingQueue } from "./queue.ts";
import type {
  TimeInput,
  CacheEventRecord,
  ExecutionRecord,
  RateLimitEventRecord,
  SessionOptions,
  ToolCallRecord,
} from "./records.ts";
import type { Batch, RecordKind, StoredRecord } from "./rows.ts";
import type { MaybePromise, Store, WriteResult } from "./store.ts";
import { KINDS, prepareRecord } from "./validate.ts";
import { createPricer, type Pricer, type PricerOptions } from "../pricing/pricer.ts";

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Where records go. */
  store: Store;
  /** pino-compatible; drops and store errors are logged once per episode. @default silent */
  logger?: Logger;
  /** Records per write; a full batch is flushed at once. @default 50 */
  batchSize?: number;
  /**
   * Records per write while a backlog drains (a burst, a store that was busy): larger
   * transactions write 2× faster, and steady traffic still goes out in `batchSize` batches.
   * @default the store's `preferredMaxBatchSize` (PostgreSQL: 5000), else 500
   */
  maxBatchSize?: number;
  /** A partial batch waits at most this long. @default 5000 */
  flushIntervalMs?: number;
  /** Records held in memory at most; beyond it new records are dropped and counted. @default 10000 */
  maxQueueSize?: number;
  /** Time and timers; tests inject their own. @default wall time anchored to a monotonic clock */
  clock?: Clock;
  /** A pricer, or options for the default one (custom prices). */
  pricing?: Pricer | PricerOptions;
  /** Flush on `beforeExit`, and synchronously on `exit` for synchronous stores. @default true */
  flushOnExit?: boolean;
  /** A write that has not settled after this long is abandoned and retried (ids keep it idempotent). @default 30000 */
  writeTimeoutMs?: number;
  /** First delay after a transient store error; doubles per attempt. @default 100 */
  retryBaseDelayMs?: number;
  /** Longest delay between retries. @default 30000 */
  maxRetryDelayMs?: number;
}

/** Counters, for health checks and tests. */
export interface TelemetryStats {
  /** Records in memory, waiting to be written. */
  queued: number;
  /** Records the store accepted (a duplicate id is accepted and stored once). */
  written: number;
  /**
   * Of those, records not stored again because their id was stored already (a replay or a
   * retry: by design, stored once). Counted when the store says so (the SQLite store does).
   */
  duplicates: number;
  /**
   * Of the duplicates, those that differ from the stored row in a field that matters (model,
   * tokens, cost, conclusion; a tool call's tool, server, outcome): most likely two records given
   * the same id. Logged once per episode, naming the field, never the values.
   */
  idCollisions: number;
  dropped: { queueFull: number; invalid: number; writeFailed: number; afterShutdown: number };
  /** Write attempts, retries included. */
  flushes: number;
  /** The latest store error or invalid-record reason, never record contents. */
  lastError: string | null;
}

/** The recording surface. Every `record*` returns at once and never throws. */
export interface Telemetry {
  recordExecution(record: ExecutionRecord): void;
  recordRateLimitEvent(record: RateLimitEventRecord): void;
  recordToolCall(record: ToolCallRecord): void;
  startSession(id: string, options?: SessionOptions): void;
  /** Ends a session; `endedAt` (default: now) for sessions recorded after the fact (imports, replays). */
  endSession(id: string, options?: { endedAt?: TimeInput }): void;
  recordCacheEvent(record: CacheEventRecord): void;
  /**
   * Writes everything queued. Resolves (never rejects) once each record is written, dropped,
   * or left queued for a retry because the store reported a transient error.
   */
  flush(): Promise<void>;
  /**
   * Stops accepting records, writes what is queued (retrying transient errors until
   * `timeoutMs`), then closes the store. Safe to call twice.
   */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  stats(): TelemetryStats;
}

/** Each kind's index in KINDS: the small integer the hot path stores, derived so the two never disagree. */
const KIND = Object.fromEntries(KINDS.map((kind, index) => [kind, index])) as Record<RecordKind, number>;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TallyConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** A store's preferred backlog batch, when it is a sane one (a custom store may say anything); else 500. */
function storePreference(preferred: unknown): number {
  return typeof preferred === "number" && Number.isSafeInteger(preferred) && preferred > 0 && preferred <= 100_000 ? preferred : 500;
}

function isThenable<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Gives the event loop a turn between batches, so a backlog never holds it for long. */
const yieldToEventLoop: () => Promise<void> =
  typeof globalThis.setImmediate === "function"
    ? () => new Promise((resolve) => globalThis.setImmediate(resolve))
    : () => new Promise((resolve) => globalThis.setTimeout(resolve, 0));

/** What to do with a batch after one write attempt. */
type Settled = "done" | "retry" | "split";

/**
 * Creates the recorder. The hot path checks, stamps and enqueues; validation, ids,
 * pricing and SQL happen at flush, one batch in flight at a time.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  if (typeof options?.store?.write !== "function") throw new TallyConfigError("createTelemetry needs a store with a write() method");
  const store = options.store;
  const logger = options.logger ?? silentLogger;
  const batchSize = positiveInteger("batchSize", options.batchSize, 50);
  const maxBatchSize = Math.max(batchSize, positiveInteger("maxBatchSize", options.maxBatchSize, storePreference(store.preferredMaxBatchSize)));
  const flushIntervalMs = positiveInteger("flushIntervalMs", options.flushIntervalMs, 5000);
  let maxQueueSize = positiveInteger("maxQueueSize", options.maxQueueSize, 10_000);
  const writeTimeoutMs = positiveInteger("writeTimeoutMs", options.writeTimeoutMs, 30_000);
  const retryBaseDelayMs = positiveInteger("retryBaseDelayMs", options.retryBaseDelayMs, 100);
  const maxRetryDelayMs = positiveInteger("maxRetryDelayMs", options.maxRetryDelayMs, 30_000);
  if (maxQueueSize < batchSize) {
    // As OpenTelemetry's batch processor does: clamp the impossible combination, warn once.
    safeLog(logger, "warn", { batchSize, maxQueueSize }, "tally: maxQueueSize is below batchSize; raising it to batchSize");
    maxQueueSize = batchSize;
  }
  const clock = options.clock ?? createSystemClock();
  const pricer: Pricer =
    options.pricing && "price" in options.pricing ? options.pricing : createPricer((options.pricing as PricerOptions | undefined) ?? {});

  const queue = new RingQueue<unknown>(maxQueueSize);
  /** Made once: a full queue is when record*() must stay cheapest. */
  const queueFullCause = `queue holds ${maxQueueSize} records`;
  const drops = new DropLog(logger);
  let written = 0;
  let duplicates = 0;
  let idCollisions = 0;
  let collisionEpisode = false;
  let flushes = 0;
  let lastError: string | null = null;
  /** A prepared batch whose write has not succeeded yet; kept across retries with its ids. */
  let pending: StoredRecord[] | null = null;
  let running: Promise<void> | null = null;
  let flushSoonQueued = false;
  let intervalTimer: TimerHandle | undefined;
  let retryTimer: TimerHandle | undefined;
  let retryAttempt = 0;
  /** The store's own word on when to retry (a server's Retry-After), from the latest failure. */
  let retryAfterMs = 0;
  let storeTrouble = false;
  let accepting = true;
  let shutdownPromise: Promise<void> | null = null;
  /** What integrations hold open; recorded before any orderly stop drains the queue. */
  const openWork = new Set<OpenWork>();
  const openWorkRegistry: OpenWorkRegistry = {
    add: (work) => {
      if (accepting) openWork.add(work);
    },
    delete: (work) => openWork.delete(work),
  };

  function enqueue(kind: number, value: unknown): void {
    try {
      if (!accepting) return drops.drop("afterShutdown", 1, "record after shutdown()");
      if (typeof value !== "object" || value === null) {
        lastError = "record must be an object";
        return drops.drop("invalid", 1, lastError);
      }
      if (queue.size >= maxQueueSize) return drops.drop("queueFull", 1, queueFullCause);
      queue.push(kind, value, clock.now());
      if (queue.size >= batchSize) {
        if (!flushSoonQueued && running === null && retryTimer === undefined) {
          flushSoonQueued = true;
          queueMicrotask(flushFullBatches);
        }
      } else if (intervalTimer === undefined) {
        intervalTimer = clock.setTimeout(onInterval, flushIntervalMs);
      }
    } catch {
      // Only a broken injected clock can land here; the record is lost but the host is not.
    }
  }

  function flushFullBatches(): void {
    flushSoonQueued = false;
    void run(false);
  }

  function onInterval(): void {
    intervalTimer = undefined;
    void run(true);
  }

  /**
   * How many records the next write takes: whole batches while full ones wait (`all` false),
   * everything when flushing; more than `batchSize` only when a backlog has built up.
   */
  function nextBatchSize(all: boolean): number {
    const available = Math.min(queue.size, maxBatchSize);
    if (all) return Math.max(available, 1);
    return Math.max(batchSize, available - (available % batchSize));
  }

  /** Takes the next batch off the queue, dropping invalid records; null when the queue is empty. */
  function takeBatch(all: boolean): StoredRecord[] | null {
    let invalidSeen = false;
    while (queue.size > 0) {
      const batch: StoredRecord[] = [];
      queue.drain(nextBatchSize(all), (kind, value, stamp) => {
        try {
          batch.push(prepareRecord(KINDS[kind]!, value, stamp, pricer));
        } catch (error) {
          invalidSeen = true;
          lastError = toError(error).message;
          drops.drop("invalid", 1, lastError);
        }
      });
      if (batch.length > 0) return batch;
    }
    if (!invalidSeen) drops.end("invalid");
    return null;
  }

  /** Counts a write's duplicates; the first collision of an episode is logged, by field name. */
  function noteDuplicates(count: number | undefined, collisions: readonly string[] | undefined): void {
    duplicates += count ?? 0;
    const collided = collisions?.length ?? 0;
    if (collided === 0) {
      collisionEpisode = false;
      return;
    }
    idCollisions += collided;
    if (collisionEpisode) return;
    collisionEpisode = true;
    const fields = [...new Set(collisions)];
    safeLog(logger, "warn", { fields }, `tally: probable id collision: a record whose id is stored already differs in ${fields.join(", ")}; it was not written (stats().idCollisions counts these)`);
  }

  function settle(batch: Batch, result: WriteResult): Settled {
    if (result.ok) {
      const refused = result.refused ?? 0;
      written += batch.length - refused;
      if (refused > 0) {
        lastError = result.refusal ?? "the store refused records";
        drops.drop("invalid", refused, lastError);
      }
      noteDuplicates(result.duplicates, result.collisions);
      retryAttempt = 0;
      retryAfterMs = 0;
      if (storeTrouble) {
        storeTrouble = false;
        safeLog(logger, "info", {}, "tally: store is writable again");
      }
      drops.end("writeFailed");
      drops.end("queueFull");
      return "done";
    }
    lastError = result.error.message;
    if (result.failure === "retryable") {
      retryAfterMs = result.retryAfterMs ?? 0;
      if (!storeTrouble) {
        storeTrouble = true;
        safeLog(logger, "warn", { error: lastError }, "tally: store temporarily unavailable; records stay queued and the write is retried");
      }
      return "retry";
    }
    if (result.failure === "rejected" && batch.length > 1) return "split";
    drops.drop("writeFailed", batch.length, lastError);
    return "done";
  }

  function callStore(batch: Batch): MaybePromise<WriteResult> {
    flushes++;
    try {
      return store.write(batch);
    } catch (error) {
      return { ok: false, failure: "failed", error: toError(error) };
    }
  }

  /** One write, raced against writeTimeoutMs so a hung store cannot stall the writer. */
  async function writeAsync(batch: Batch): Promise<WriteResult> {
    const attempt = callStore(batch);
    if (!isThenable(attempt)) return attempt;
    let timeout: TimerHandle | undefined;
    const timedOut = new Promise<WriteResult>((resolve) => {
      timeout = clock.setTimeout(
        () => resolve({ ok: false, failure: "retryable", error: new Error(`store write did not settle within ${writeTimeoutMs} ms`) }),
        writeTimeoutMs,
      );
    });
    const settled = attempt.then(
      (result) => result,
      (error: unknown): WriteResult => ({ ok: false, failure: "failed", error: toError(error) }),
    );
    try {
      return await Promise.race([settled, timedOut]);
    } finally {
      clock.clearTimeout(timeout);
    }
  }

  /** Writes one batch; on "split", row by row so only the bad record is dropped. */
  async function writePending(batch: StoredRecord[]): Promise<"done" | "retry"> {
    const outcome = settle(batch, await writeAsync(batch));
    if (outcome !== "split") return outcome;
    for (let i = 0; i < batch.length; i++) {
      const single = [batch[i]!];
      if (settle(single, await writeAsync(single)) === "retry") {
        pending = batch.slice(i);
        return "retry";
      }
    }
    return "done";
  }

  /** Doubling from retryBaseDelayMs, capped at maxRetryDelayMs. */
  function retryDelay(): number {
    return Math.min(maxRetryDelayMs, Math.max(retryAfterMs, retryBaseDelayMs * 2 ** Math.min(retryAttempt, 30)));
  }

  function scheduleRetry(): void {
    const delay = retryDelay();
    retryAttempt++;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      void run(true);
    }, delay);
  }

  function clearRetry(): void {
    if (retryTimer !== undefined) {
      clock.clearTimeout(retryTimer);
      retryTimer = undefined;
    }
  }

  /** The flush loop; at most one runs. `all` drains partial batches too. Never rejects. */
  function run(all: boolean): Promise<void> {
    // A loop started by a full batch stops below batchSize; flush() must wait for a full drain.
    if (running) return all ? running.then(() => run(true)) : running;
    clearRetry();
    // The loop can finish without awaiting (nothing to write); then `running` must stay null,
    // or every later run() would return this settled promise and nothing would be written again.
    let finished = false;
    const loop = (async () => {
      try {
        for (;;) {
          if (!all && pending === null && queue.size < batchSize) break;
          const batch = pending ?? takeBatch(all);
          if (batch === null) break;
          pending = batch;
          const outcome = await writePending(batch);
          if (outcome === "retry") {
            scheduleRetry();
            break;
          }
          pending = null;
          await yieldToEventLoop();
        }
      } catch (error) {
        lastError = toError(error).message;
        safeLog(logger, "error", { error: lastError }, "tally: unexpected error in the flush loop");
      } finally {
        finished = true;
        running = null;
      }
      if (queue.size > 0 && intervalTimer === undefined && retryTimer === undefined && accepting) {
        intervalTimer = clock.setTimeout(onInterval, flushIntervalMs);
      }
    })();
    if (!finished) running = loop;
    return loop;
  }

  /** The last resort inside process.on("exit"): synchronous stores only, no retries. */
  function drainSync(): void {
    try {
      let batch = pending ?? takeBatch(true);
      while (batch !== null) {
        pending = null;
        const result = callStore(batch);
        if (isThenable(result)) {
          const lost = batch.length + queue.size;
          void result.catch(() => {});
          drops.drop("writeFailed", lost, "the store is asynchronous and the process is exiting");
          queue.drain(queue.size, () => {});
          return;
        }
        let outcome = settle(batch, result);
        if (outcome === "split") {
          for (const record of batch) {
            const single = callStore([record]);
            outcome = isThenable(single) ? "retry" : settle([record], single);
            if (outcome === "retry") drops.drop("writeFailed", 1, "store unavailable at exit");
          }
        } else if (outcome === "retry") {
          drops.drop("writeFailed", batch.length, "store unavailable at exit");
        }
        batch = takeBatch(true);
      }
    } catch (error) {
      safeLog(logger, "error", { error: toError(error).message }, "tally: final flush at exit failed");
    }
  }

  const hostProcess = (globalThis as { process?: NodeJS.Process }).process;
  // beforeExit: nothing is left to run, so what is held open will never finish; exit: last chance.
  const onBeforeExit = () => {
    closeAll(openWork);
    if (queue.size > 0 || pending !== null) void run(true);
  };
  const onExit = () => {
    closeAll(openWork);
    drainSync();
  };
  const exitHooks = options.flushOnExit !== false && typeof hostProcess?.on === "function";
  if (exitHooks) {
    hostProcess.on("beforeExit", onBeforeExit);
    hostProcess.on("exit", onExit);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => clock.setTimeout(resolve, ms));
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    // First what integrations hold open (sessions, running calls and runs), while records are still taken.
    closeAll(openWork);
    accepting = false;
    if (intervalTimer !== undefined) clock.clearTimeout(intervalTimer);
    intervalTimer = undefined;
    const deadline = clock.now() + timeoutMs;
    // Every wait is raced against the deadline: a hung store must not hold shutdown past timeoutMs.
    const untilDeadline = () => sleep(Math.max(0, deadline - clock.now()));
    try {
      await Promise.race([run(true), untilDeadline()]);
      while ((pending !== null || queue.size > 0) && clock.now() < deadline) {
        clearRetry();
        await sleep(Math.min(retryDelay(), Math.max(0, deadline - clock.now())));
        await Promise.race([run(true), untilDeadline()]);
      }
      clearRetry();
      const left = (pending?.length ?? 0) + queue.size;
      if (left > 0) {
        drops.drop("writeFailed", left, `shutdown gave up after ${timeoutMs} ms`);
        pending = null;
        queue.drain(queue.size, () => {});
      }
    } finally {
      if (exitHooks) {
        hostProcess.off("beforeExit", onBeforeExit);
        hostProcess.off("exit", onExit);
      }
      try {
        const closed = store.close();
        if (isThenable(closed)) await closed;
      } catch (error) {
        safeLog(logger, "warn", { error: toError(error).message }, "tally: closing the store failed");
      }
    }
  }

  const telemetry: Telemetry & { [OPEN_WORK]: OpenWorkRegistry } = {
    [OPEN_WORK]: openWorkRegistry,
    recordExecution: (record) => enqueue(KIND.execution, record),
    recordRateLimitEvent: (record) => enqueue(KIND.rateLimitEvent, record),
    recordToolCall: (record) => enqueue(KIND.toolCall, record),
    startSession(id, sessionOptions) {
      try {
        enqueue(KIND.sessionStart, { ...sessionOptions, id });
      } catch {
        drops.drop("invalid", 1, "session options could not be read");
      }
    },
    endSession(id, endOptions) {
      try {
        enqueue(KIND.sessionEnd, endOptions?.endedAt === undefined ? { id } : { id, endedAt: endOptions.endedAt });
      } catch {
        drops.drop("invalid", 1, "session end options could not be read");
      }
    },
    recordCacheEvent: (record) => enqueue(KIND.cacheEvent, record),
    flush: () => run(true),
    shutdown(shutdownOptions) {
      shutdownPromise ??= shutdown(shutdownOptions?.timeoutMs ?? 30_000).catch(() => {});
      return shutdownPromise;
    },
    stats: () => ({
      queued: queue.size + (pending?.length ?? 0),
      written,
      duplicates,
      idCollisions,
      dropped: { ...drops.totals },
      flushes,
      lastError,
    }),
  };
  return telemetry;
}
