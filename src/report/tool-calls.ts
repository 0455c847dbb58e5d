/**
 * Tool calls of a range, newest first, a page at a time: the calls behind a row of the tools
 * report (a tool's recent failing calls). Read through the `created_at` index like the runs
 * listing, with the same cursor.
 */
import { parseGlob } from "./glob.ts";
import { decodeCursor, encodeCursor, pageSize, TOOL_CALL_COLUMNS, toolCallView, type ToolCallView } from "./runs.ts";
import type { TimeRange } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { ParamList, type ReportProgram, type SqlRows } from "./sql/query.ts";

/** Which tool calls to list. Filters are Tally globs, OR-ed within a list. */
export interface ToolCallsQuery {
  range: TimeRange;
  tools?: string[];
  servers?: string[];
  /** Outcomes: ok, tool_error, protocol_error, cancelled (globs). */
  outcomes?: string[];
  sessionId?: string;
  /** Calls per page. @default 50 (at most 500) */
  limit?: number;
  /** Where the previous page ended (`nextCursor`). */
  cursor?: string;
}

export interface ToolCallsPage {
  toolCalls: ToolCallView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Lists tool calls newest first, one page per call, continuing after `cursor`. */
export function* toolCallsProgram(dialect: SqlDialect, query: ToolCallsQuery): ReportProgram<ToolCallsPage> {
  const params = new ParamList(dialect);
  const where: string[] = [];
  if (query.range.since !== undefined) where.push(`created_at >= ${params.add(query.range.since)}`);
  if (query.range.until !== undefined) where.push(`created_at < ${params.add(query.range.until)}`);
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (after !== null) {
    where.push(`(created_at < ${params.add(after.createdAt)} OR (created_at = ${params.add(after.createdAt)} AND id < ${params.add(after.id)}))`);
  }
  const globs: [string, string[] | undefined][] = [
    ["tool_name", query.tools],
    ["server", query.servers],
    ["outcome", query.outcomes],
  ];
  for (const [column, patterns] of globs) {
    if (patterns === undefined || patterns.length === 0) continue;
    where.push(`(${patterns.map((p) => dialect.globMatch(column, params.add(dialect.globParam(parseGlob(p))))).join(" OR ")})`);
  }
  if (query.sessionId !== undefined) where.push(`session_id = ${params.add(query.sessionId)}`);
  const size = pageSize(query.limit);
  const sql = `SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY created_at DESC, id DESC LIMIT ${params.add(size + 1)}`;
  const rows: SqlRows = yield { sql, params: params.values };
  const toolCalls = rows.slice(0, size).map(toolCallView);
  const last = toolCalls.at(-1);
  const nextCursor = rows.length > size && last !== undefined ? encodeCursor(Date.parse(last.createdAt), last.id) : null;
  return { toolCalls, nextCursor };
}
