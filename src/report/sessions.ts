/**
 * Sessions of a range, newest first, a page at a time: who called the tools (client name and
 * version). Read through the sessions' `created_at` index with the runs listing's cursor.
 */
import { decodeCursor, encodeCursor, pageSize, sessionView, type SessionView } from "./runs.ts";
import type { TimeRange } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram, type SqlRows } from "./sql/query.ts";

export interface SessionsQuery {
  /** Sessions recorded (started) in this range. */
  range: TimeRange;
  /** Sessions per page. @default 50 (at most 500) */
  limit?: number;
  /** Where the previous page ended (`nextCursor`). */
  cursor?: string;
}

export interface SessionsPage {
  sessions: SessionView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Lists sessions newest first, one page per call, continuing after `cursor`. */
export function* sessionsProgram(dialect: SqlDialect, query: SessionsQuery): ReportProgram<SessionsPage> {
  const params = new ParamList(dialect);
  const where: string[] = [];
  if (query.range.since !== undefined) where.push(`created_at >= ${params.add(query.range.since)}`);
  if (query.range.until !== undefined) where.push(`created_at < ${params.add(query.range.until)}`);
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (after !== null) {
    where.push(`(created_at < ${params.add(after.createdAt)} OR (created_at = ${params.add(after.createdAt)} AND id < ${params.add(after.id)}))`);
  }
  const size = pageSize(query.limit);
  const sql = `SELECT id, created_at, started_at, ended_at, source, client_name, client_version FROM sessions
    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ${params.add(size + 1)}`;
  const rows: SqlRows = yield { sql, params: params.values };
  const sessions = rows.slice(0, size).map(sessionView);
  const last = rows[Math.min(rows.length, size) - 1];
  const nextCursor = rows.length > size && last !== undefined ? encodeCursor(Number(last.created_at), String(last.id)) : null;
  return { sessions, nextCursor };
}
