/**
 * Sessions of a range, newest first, a page at a time: who called the tools (client name and
 * version). Read through the sessions' `created_at` index with the runs listing's cursor.
 */
import { pageProgram, type PageQuery } from "./page.ts";
import { sessionView, type SessionView } from "./runs.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ReportProgram } from "./sql/query.ts";

/** Sessions recorded (started) in `range`, a page at a time. */
export type SessionsQuery = PageQuery;

export interface SessionsPage {
  sessions: SessionView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Lists sessions newest first, one page per call, continuing after `cursor`. */
export function* sessionsProgram(dialect: SqlDialect, query: SessionsQuery): ReportProgram<SessionsPage> {
  const page = yield* pageProgram(dialect, query, {
    table: "sessions",
    columns: "id, created_at, started_at, ended_at, source, client_name, client_version",
    view: sessionView,
  });
  return { sessions: page.items, nextCursor: page.nextCursor };
}
