/**
 * Tool calls of a range, newest first, a page at a time: the calls behind a row of the tools
 * report (a tool's recent failing calls). Read through the `created_at` index like the runs
 * listing, with the same cursor.
 */
import { pageProgram, type PageQuery } from "./page.ts";
import { TOOL_CALL_COLUMNS, toolCallView, type ToolCallView } from "./runs.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ReportProgram } from "./sql/query.ts";

/** Which tool calls to list. Filters are Tally globs, OR-ed within a list. */
export interface ToolCallsQuery extends PageQuery {
  tools?: string[];
  servers?: string[];
  /** Outcomes: ok, tool_error, protocol_error, cancelled (globs). */
  outcomes?: string[];
  sessionId?: string;
}

export interface ToolCallsPage {
  toolCalls: ToolCallView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Lists tool calls newest first, one page per call, continuing after `cursor`. */
export function* toolCallsProgram(dialect: SqlDialect, query: ToolCallsQuery): ReportProgram<ToolCallsPage> {
  const page = yield* pageProgram(dialect, query, {
    table: "tool_calls",
    columns: TOOL_CALL_COLUMNS,
    globs: [
      ["tool_name", query.tools],
      ["server", query.servers],
      ["outcome", query.outcomes],
    ],
    equals: [["session_id", query.sessionId]],
    view: toolCallView,
  });
  return { toolCalls: page.items, nextCursor: page.nextCursor };
}
