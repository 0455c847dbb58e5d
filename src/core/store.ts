import type { Batch } from "./rows.ts";

/**
 * How a write went. Stores return this instead of throwing, as OpenTelemetry exporters do:
 * - `retryable`: a passing condition (busy, locked, connection lost); the same batch may succeed later.
 * - `rejected`: something in the batch itself was refused (a constraint, a value the driver cannot bind);
 *   the writer retries row by row to find and drop only the bad record.
 * - `failed`: the store cannot take writes (disk full, read-only, corrupt, closed); retrying will not help now.
 */
export type WriteResult =
  | {
      ok: true;
      /** Rows inserted. */
      inserted: number;
      /** Records not written because their id is stored already (replays, retries, copies). */
      duplicates?: number;
      /** The batch positions of those duplicates, when the store can tell (the server answers per item). */
      duplicateIndexes?: readonly number[];
      /**
       * Duplicates whose content differs from the stored row in a field that matters, by field
       * name (`execution.model`, never a value): most likely two records handed the same id.
       */
      collisions?: readonly string[];
      /** Stored rows replaced by a later snapshot of the same response (importers only). */
      replaced?: number;
      /** Records a store refused for good (counted as dropped, invalid), and why. */
      refused?: number;
      /** Their batch positions, when the store can tell (the server answers per item). */
      refusedIndexes?: readonly number[];
      refusal?: string;
    }
  | {
      ok: false;
      failure: "retryable" | "rejected" | "failed";
      error: Error;
      /** For `retryable`: wait at least this long before the retry (a server's Retry-After). */
      retryAfterMs?: number;
    };

/** Something a result may be, now or later. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where records go. Synchronous stores (SQLite) return plain values, which lets the last
 * flush run inside `process.on("exit")`; asynchronous stores (PostgreSQL, HTTP) return promises.
 */
export interface Store {
  /** Writes a batch in one transaction; idempotent on record ids. Never throws. */
  write(batch: Batch): MaybePromise<WriteResult>;
  /** Deletes raw rows older than `days`; returns how many. Rollups are kept. */
  purgeOlderThan(days: number): MaybePromise<number>;
  /** Folds the write-ahead log back into the database, without waiting for readers. */
  checkpoint(): MaybePromise<void>;
  /** Releases the connection; later writes fail with `failure: "failed"`. */
  close(): MaybePromise<void>;
  /**
   * Records per write this store handles best while a backlog drains; `createTelemetry`'s
   * `maxBatchSize` defaults to it (PostgreSQL: 5,000, where a write's cost is mostly per
   * statement; absent: 500).
   */
  readonly preferredMaxBatchSize?: number;
}
