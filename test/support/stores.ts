import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { Batch, Store, WriteResult } from "../../src/index.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { tempDir } from "./temp-dir.ts";

/** A real SQLite store on a fresh file, wrapped to record the size of each batch it is handed. */
export function observedSqliteStore(): { store: Store; batches: number[]; inner: SqliteStore; count(table: string): number; path: string } {
  const path = join(tempDir(), "tally.db");
  const inner = openSqliteStore({ path });
  const batches: number[] = [];
  const store: Store = {
    write(batch) {
      batches.push(batch.length);
      return inner.write(batch);
    },
    purgeOlderThan: (days) => inner.purgeOlderThan(days),
    checkpoint: () => inner.checkpoint(),
    close: () => inner.close(),
  };
  const count = (table: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return Number((db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    } finally {
      db.close();
    }
  };
  return { store, batches, inner, count, path };
}

/** A store whose every answer the test scripts; records what it was asked. */
export class ScriptedStore implements Store {
  readonly calls: Batch[] = [];
  closed = false;
  constructor(private readonly answer: (batch: Batch, call: number) => WriteResult | Promise<WriteResult>) {}
  write(batch: Batch) {
    this.calls.push(batch);
    return this.answer(batch, this.calls.length);
  }
  purgeOlderThan() {
    return 0;
  }
  checkpoint() {}
  close() {
    this.closed = true;
  }
}

/** A logger that keeps what it was told. */
export function collectingLogger() {
  const entries: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg: msg ?? "" });
  return { entries, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
