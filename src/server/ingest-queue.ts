/**
 * Where the server's requests wait for the store: a bounded queue that commits the records of
 * several requests in one transaction (group commit) and answers each request only after its
 * rows are committed. When the queue is full a request is refused at once (the client gets 429
 * and retries), so nothing is ever accepted and then dropped.
 */
import { toError } from "../core/errors.ts";
import type { StoredRecord } from "../core/rows.ts";
import type { Store, WriteResult } from "../core/store.ts";

/** What became of one record of a request. `refused`: the store would not take it (a constraint). */
export type ItemStatus = "accepted" | "duplicate" | "refused";

export type SubmitOutcome =
  | { ok: true; statuses: ItemStatus[]; refusal: string | null }
  | { ok: false; reason: "busy" | "unavailable"; retryAfterSeconds: number; message: string };

/** Options of {@link IngestQueue}. */
export interface IngestQueueOptions {
  /** Records waiting for the store at most; a request that would pass it gets 429. @default 20000 */
  maxQueuedRecords: number;
  /** Records per transaction at most (a request larger than this is written alone). @default 5000 */
  maxBatchRecords: number;
  /** Told after every write, for metrics: how long it took and how it went. */
  onWrite?: (seconds: number, result: WriteResult) => void;
}

interface Waiting {
  records: StoredRecord[];
  resolve(outcome: SubmitOutcome): void;
}

/** Seconds a client should wait after a full queue or a busy store. */
const RETRY_AFTER_SECONDS = 1;

export class IngestQueue {
  private readonly waiting: Waiting[] = [];
  private queuedRecords = 0;
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: IngestQueueOptions,
  ) {}

  /** Records waiting for the store (a gauge for /metrics). */
  get depth(): number {
    return this.queuedRecords;
  }

  /** Resolves once the records are committed, refused, or cannot be written now. Never rejects. */
  submit(records: StoredRecord[]): Promise<SubmitOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: "unavailable", retryAfterSeconds: RETRY_AFTER_SECONDS, message: "the server is shutting down" });
    if (records.length === 0) return Promise.resolve({ ok: true, statuses: [], refusal: null });
    if (this.queuedRecords > 0 && this.queuedRecords + records.length > this.options.maxQueuedRecords) {
      return Promise.resolve({ ok: false, reason: "busy", retryAfterSeconds: RETRY_AFTER_SECONDS, message: `the write queue holds ${this.queuedRecords} records; retry later` });
    }
    this.queuedRecords += records.length;
    const done = new Promise<SubmitOutcome>((resolve) => this.waiting.push({ records, resolve }));
    this.loop ??= this.drain();
    return done;
  }

  /** Stops taking requests and waits for those already queued to be written. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.loop !== null) await this.loop;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.takeGroup();
        await this.writeGroup(group);
        for (const item of group) this.queuedRecords -= item.records.length;
      }
    } finally {
      this.loop = null;
    }
  }

  /** The next requests to commit together: at least one, then as many as fit in a batch. */
  private takeGroup(): Waiting[] {
    const group = [this.waiting.shift()!];
    let size = group[0]!.records.length;
    while (this.waiting.length > 0 && size + this.waiting[0]!.records.length <= this.options.maxBatchRecords) {
      const next = this.waiting.shift()!;
      size += next.records.length;
      group.push(next);
    }
    return group;
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    const batch = group.length === 1 ? group[0]!.records : group.flatMap((item) => item.records);
    const result = await this.write(batch);
    if (result.ok) {
      const statuses = statusesOf(batch.length, result);
      let offset = 0;
      for (const item of group) {
        item.resolve({ ok: true, statuses: statuses.slice(offset, offset + item.records.length), refusal: result.refusal ?? null });
        offset += item.records.length;
      }
      return;
    }
    if (result.failure === "rejected") {
      // One bad record must not fail the others: each request alone, then record by record.
      for (const item of group) item.resolve(await this.writeAlone(item.records, group.length > 1));
      return;
    }
    const outcome: SubmitOutcome = { ok: false, reason: "unavailable", retryAfterSeconds: RETRY_AFTER_SECONDS, message: "the store cannot take writes right now; retry later" };
    for (const item of group) item.resolve(outcome);
  }

  private async writeAlone(records: StoredRecord[], wholeFirst: boolean): Promise<SubmitOutcome> {
    if (wholeFirst) {
      const result = await this.write(records);
      if (result.ok) return { ok: true, statuses: statusesOf(records.length, result), refusal: result.refusal ?? null };
      if (result.failure !== "rejected") return { ok: false, reason: "unavailable", retryAfterSeconds: RETRY_AFTER_SECONDS, message: "the store cannot take writes right now; retry later" };
    }
    const statuses: ItemStatus[] = [];
    let refusal: string | null = null;
    for (const record of records) {
      const result = await this.write([record]);
      if (result.ok) {
        statuses.push(statusesOf(1, result)[0]!);
        if (result.refusal !== undefined) refusal ??= result.refusal;
      }
      else if (result.failure === "rejected") {
        statuses.push("refused");
        refusal ??= result.error.message;
      } else {
        // Rows before this one are committed: the client's retry finds them as duplicates.
        return { ok: false, reason: "unavailable", retryAfterSeconds: RETRY_AFTER_SECONDS, message: "the store cannot take writes right now; retry later" };
      }
    }
    return { ok: true, statuses, refusal };
  }

  private async write(batch: StoredRecord[]): Promise<WriteResult> {
    const started = performance.now();
    let result: WriteResult;
    try {
      result = await this.store.write(batch);
    } catch (error) {
      result = { ok: false, failure: "failed", error: toError(error) };
    }
    this.options.onWrite?.((performance.now() - started) / 1000, result);
    return result;
  }
}

/** Per-record statuses of a successful write: duplicates where the store says, accepted elsewhere. */
function statusesOf(length: number, result: Extract<WriteResult, { ok: true }>): ItemStatus[] {
  const statuses = new Array<ItemStatus>(length).fill("accepted");
  for (const index of result.duplicateIndexes ?? []) if (index < length) statuses[index] = "duplicate";
  for (const index of result.refusedIndexes ?? []) if (index < length) statuses[index] = "refused";
  return statuses;
}
