import type { WriteResult } from "../../core/store.ts";
import { toError } from "../../core/errors.ts";

/** Connection-level failures of postgres.js and of Node's sockets: the server may be back soon. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT",
  "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND",
]);

/** The SQLSTATE or connection code of a postgres.js error, if it has one. */
export function postgresCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether the error says the server is unreachable or going away (as opposed to refusing this statement). */
export function isConnectionError(error: unknown): boolean {
  const code = postgresCode(error);
  if (code === undefined) return false;
  // 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now.
  return CONNECTION_CODES.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";
}

/**
 * Whether PostgreSQL lost a statement postgres.js prepared (26000), or holds one of that name
 * already (42P05): the statement ran on another server connection than the one it was
 * prepared on, as behind a pooler in transaction mode with `?prepare=true`. Retryable: the
 * transaction rolled back, and a later one may land where the statement is.
 */
export function isLostPreparedStatement(error: unknown): boolean {
  const code = postgresCode(error);
  return code === "26000" || code === "42P05";
}

/**
 * Sorts a failed write as the SQLite store does: a passing condition (connection lost,
 * deadlock, serialization failure, lock timeout, too many connections) is retryable; a value
 * the database refused (class 22 data exception, 23 integrity, 54 too large) is the record's
 * fault; anything else (a broken schema, permissions) is the store's. The message names the
 * step and the code, never the bound values.
 */
export function classifyPostgresError(thrown: unknown, step: string): WriteResult {
  const error = toError(thrown);
  const code = postgresCode(thrown);
  const hint = isLostPreparedStatement(thrown) ? " (behind a pooler in transaction mode, leave prepare=true out of the URL)" : "";
  const wrapped = new Error(`${step}: ${code ?? error.name}: ${error.message}${hint}`, { cause: thrown });
  if (code === undefined) return { ok: false, failure: "rejected", error: wrapped };
  if (isConnectionError(thrown) || isLostPreparedStatement(thrown) || code === "40001" || code === "40P01" || code === "55P03" || code.startsWith("53")) {
    return { ok: false, failure: "retryable", error: wrapped };
  }
  if (code.startsWith("22") || code.startsWith("23") || code.startsWith("54")) return { ok: false, failure: "rejected", error: wrapped };
  return { ok: false, failure: "failed", error: wrapped };
}
