import type { Batch, StoredRecord } from "../../core/rows.ts";
import type { MaybePromise, WriteResult } from "../../core/store.ts";
import type { ImportFileState, WriteOptions } from "../../store/sqlite/import-state.ts";

function byId(a: StoredRecord, b: StoredRecord): number {
  return a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0;
}

/** What an import writes to: the SQLite store or the PostgreSQL one (`SqliteStore` and `PostgresStore` fit). */
export interface ImportTarget {
  write(batch: Batch, options?: WriteOptions): MaybePromise<WriteResult>;
  importState(source: string, path: string): MaybePromise<ImportFileState | undefined>;
  /** Every saved state of one importer at once; when present, used instead of `importState` per file. */
  importStates?(source: string): MaybePromise<Map<string, ImportFileState>>;
  /** Epoch ms below which executions were purged (see SqliteStore.executionsPurgedBefore). */
  executionsPurgedBefore?(): MaybePromise<number | null>;
  /** Where the import keeps its price memo between runs (see `createPricer({ memo })`). */
  meta?(key: string): MaybePromise<string | number | null>;
  setMeta?(key: string, value: string): MaybePromise<boolean>;
}

/** The store refused a batch; nothing of that batch, nor the progress it carried, was saved. */
export class ImportWriteError extends Error {
  override readonly name = "ImportWriteError";
  constructor(readonly failure: string, options: { cause: Error }) {
    super(options.cause.message, options);
  }
}

/**
 * Collects rows into batches of `batchSize` and writes each together with the file
 * progress it accounts for, in one transaction: an interrupted import resumes exactly where
 * its last committed batch ended, and no row is ever saved without its progress or the
 * other way round (had progress been saved after the rows, a crash between the two would
 * only cost a re-read, deduplicated; the single transaction makes even that impossible).
 */
export class BatchSink {
  private rows: StoredRecord[] = [];
  /** Where each row of this batch is in `rows`, by id: a later snapshot takes its place. */
  private readonly rowIndex = new Map<string, number>();
  private readonly pending = new Map<string, ImportFileState>();
  /** Rows the store actually inserted (not duplicates). */
  inserted = 0;
  /** Stored rows the store replaced by a later snapshot of the same response. */
  replaced = 0;

  constructor(
    private readonly target: ImportTarget,
    private readonly batchSize: number,
  ) {}

  /**
   * Adds a row, or replaces the row of this batch with the same id (a later snapshot of the
   * response); true when the batch is full and should be flushed at the next line boundary.
   */
  push(record: StoredRecord): boolean {
    const at = this.rowIndex.get(record.row.id);
    if (at !== undefined) {
      this.rows[at] = record;
      return false;
    }
    this.rowIndex.set(record.row.id, this.rows.length);
    this.rows.push(record);
    return this.rows.length >= this.batchSize;
  }

  /** Records that a file is read up to `state.offset` once the rows pushed so far are written. */
  progress(state: ImportFileState): void | Promise<void> {
    this.pending.set(state.path, state);
    if (this.pending.size >= this.batchSize) return this.flush();
  }

  /**
   * Writes pending rows and progress (plus `current`, the file being read) in one transaction;
   * returns a promise when the store is asynchronous (await it before pushing more).
   */
  flush(current?: ImportFileState): void | Promise<void> {
    if (current !== undefined) this.pending.set(current.path, current);
    if (this.rows.length === 0 && this.pending.size === 0) return;
    // In id order, each page of the id index is visited once per batch, not fetched again and
    // again (older message ids are random). A batch holds one row per id (see push).
    this.rows.sort(byId);
    // A response whose final snapshot comes in a later batch or import replaces its stored row.
    const result = this.target.write(this.rows, { importFiles: [...this.pending.values()], replaceSnapshots: true });
    return result instanceof Promise ? result.then((settled) => this.settle(settled)) : this.settle(result);
  }

  private settle(result: WriteResult): void {
    if (!result.ok) throw new ImportWriteError(result.failure, { cause: result.error });
    this.inserted += result.inserted;
    this.replaced += result.replaced ?? 0;
    this.rows = [];
    this.rowIndex.clear();
    this.pending.clear();
  }
}
