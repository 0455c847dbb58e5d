/**
 * One page of a raw table, newest first, for the drill-down listings (runs, tool calls,
 * sessions): a time range read through the table's `created_at` index, Tally globs OR-ed per
 * column, exact matches, and a cursor naming the last row shown (its time and id), so pages
 * neither skip nor repeat rows however many are written meanwhile.
 */
import { parseGlob } from "./glob.ts";
import type { TimeRange } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram, type SqlRows } from "./sql/query.ts";

/** What every listing takes besides its own filters. */
export interface PageQuery {
  range: TimeRange;
  /** Rows per page. @default 50 (at most 500) */
  limit?: number;
  /** Where the previous page ended (`nextCursor`). */
  cursor?: string;
}

/** How to list one table. Table and column names come from the listings' own code, never from a request. */
export interface PageShape<V> {
  table: "executions" | "tool_calls" | "sessions";
  columns: string;
  /** Glob filters: a column and the patterns it may match (any of them). */
  globs?: readonly (readonly [column: string, patterns: readonly string[] | undefined])[];
  /** Exact filters: a column and the value it must hold. */
  equals?: readonly (readonly [column: string, value: string | undefined])[];
  /** A row as the API shows it. */
  view(row: Record<string, unknown>): V;
}

export interface Page<V> {
  items: V[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Thrown for a cursor this server did not make. */
export class CursorError extends Error {
  override readonly name = "CursorError";
}

/** Clamps a page size to 1..500. */
function pageSize(limit: number | undefined): number {
  return Math.min(500, Math.max(1, Math.floor(limit ?? 50)));
}

/** Lists one page of `shape.table`, newest first, continuing after `query.cursor`. */
export function* pageProgram<V>(dialect: SqlDialect, query: PageQuery, shape: PageShape<V>): ReportProgram<Page<V>> {
  // Placeholders are positional in some dialects: every value is added in the order the SQL reads.
  const params = new ParamList(dialect);
  const where: string[] = [];
  if (query.range.since !== undefined) where.push(`created_at >= ${params.add(query.range.since)}`);
  if (query.range.until !== undefined) where.push(`created_at < ${params.add(query.range.until)}`);
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (after !== null) {
    where.push(`(created_at < ${params.add(after.createdAt)} OR (created_at = ${params.add(after.createdAt)} AND id < ${params.add(after.id)}))`);
  }
  for (const [column, patterns] of shape.globs ?? []) {
    if (patterns === undefined || patterns.length === 0) continue;
    where.push(`(${patterns.map((p) => dialect.globMatch(column, params.add(dialect.globParam(parseGlob(p))))).join(" OR ")})`);
  }
  for (const [column, value] of shape.equals ?? []) {
    if (value !== undefined) where.push(`${column} = ${params.add(value)}`);
  }
  const size = pageSize(query.limit);
  const sql = `SELECT ${shape.columns} FROM ${shape.table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY created_at DESC, id DESC LIMIT ${params.add(size + 1)}`;
  const rows: SqlRows = yield { sql, params: params.values };
  const last = rows[Math.min(rows.length, size) - 1];
  return {
    items: rows.slice(0, size).map((row) => shape.view(row)),
    nextCursor: rows.length > size && last !== undefined ? encodeCursor(Number(last.created_at), String(last.id)) : null,
  };
}

/**
 * A cursor names the last row shown: its time and id, base64url of UTF-8 JSON (JSON.stringify
 * escapes lone surrogates, so any id survives the round trip), opaque to clients.
 */
function encodeCursor(createdAt: number, id: string): string {
  const bytes = new TextEncoder().encode(JSON.stringify([createdAt, id]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads a cursor made by {@link encodeCursor}; throws {@link CursorError}. */
function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    if (cursor.length > 400) throw new Error("too long");
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return { createdAt: value[0] as number, id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new CursorError("cursor is not one this server returned");
}
