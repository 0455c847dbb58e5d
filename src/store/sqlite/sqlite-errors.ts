import type { WriteResult } from "../../core/store.ts";
import { toError } from "../../core/errors.ts";

/** The SQLite result code of a driver error (`SQLITE_BUSY`, `SQLITE_FULL`, …), if it has one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

const RETRYABLE = ["SQLITE_BUSY", "SQLITE_LOCKED"];
const REJECTED = ["SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_TOOBIG", "SQLITE_RANGE"];

/**
 * Sorts a failed write: lock contention is retryable; a refused value is the record's fault
 * (retry row by row); anything else (full disk, read-only, corrupt, I/O) is the store's.
 * The message names the statement but never the bound values: they can hold prompts.
 */
export function classifyWriteError(thrown: unknown, statement: string): WriteResult {
  const error = toError(thrown);
  const code = sqliteCode(thrown);
  const wrapped = new Error(`${statement}: ${code ?? error.name}: ${error.message}`, { cause: thrown });
  if (code && RETRYABLE.some((c) => code.startsWith(c))) return { ok: false, failure: "retryable", error: wrapped };
  if (code === undefined || REJECTED.some((c) => code.startsWith(c))) return { ok: false, failure: "rejected", error: wrapped };
  return { ok: false, failure: "failed", error: wrapped };
}
