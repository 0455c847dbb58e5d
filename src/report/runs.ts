/**
 * Drill-downs behind the numbers: the runs of a range (newest first, a page at a time), one
 * run with what happened around it, and one session. Written once as programs in the report
 * dialect, like the reports, so every store answers them alike. Every statement reads the raw
 * tables through their `created_at` index (related rows are looked up in a time window around
 * the run or session, never by a scan of the whole table).
 */
import { DAY_MS } from "../core/time-units.ts";
import type { TimeRange } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import { pageProgram, type PageQuery } from "./page.ts";
import { ParamList, type ReportProgram, type SqlRows } from "./sql/query.ts";

/** Which runs to list. Filters are Tally globs, OR-ed within a list. */
export interface RunsQuery extends PageQuery {
  repos?: string[];
  models?: string[];
  events?: string[];
  conclusions?: string[];
  sessionId?: string;
}

/** A run as the API shows it: the stored row with ISO times and parsed attributes. */
export interface RunView {
  id: string;
  createdAt: string;
  repo: string;
  eventType: string;
  deliveryId: string | null;
  prNumber: number | null;
  provider: string;
  model: string;
  conclusion: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  durationMs: number;
  costUsd: number;
  costSource: string;
  sessionId: string | null;
  numTurns: number | null;
  stopReason: string | null;
  attributes: Record<string, unknown> | null;
}

export interface RunsPage {
  runs: RunView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface ToolCallView {
  id: string;
  createdAt: string;
  sessionId: string | null;
  executionId: string | null;
  server: string;
  toolName: string;
  durationMs: number;
  outcome: string;
  errorType: string | null;
  inputBytes: number | null;
  outputBytes: number | null;
}

export interface RateLimitEventView {
  id: string;
  createdAt: string;
  resource: string;
  degradation: string;
  retryAttempts: number;
  skippedQueries: number;
  limit: number | null;
  remaining: number | null;
  resetAt: string | null;
}

export interface CacheEventView {
  id: string;
  createdAt: string;
  cache: string;
  outcome: string;
}

export interface SessionView {
  id: string;
  startedAt: string;
  endedAt: string | null;
  source: string | null;
  clientName: string | null;
  clientVersion: string | null;
}

/** One run and what happened around it. */
export interface RunDetail {
  run: RunView;
  toolCalls: ToolCallView[];
  rateLimitEvents: RateLimitEventView[];
  cacheEvents: CacheEventView[];
  session: SessionView | null;
}

/** One session, its runs and its tool calls (the newest `limit` of each). */
export interface SessionDetail {
  session: SessionView;
  runs: RunView[];
  toolCalls: ToolCallView[];
}

/** Related rows are looked for this far around a run (clocks of two producers differ a little). */
const RELATED_SLACK_MS = 10 * 60_000;
/** Rows of one kind shown with a run or session at most. */
const RELATED_LIMIT = 1000;
/** A session still open is searched at most this long after it started. */
const OPEN_SESSION_SPAN_MS = 7 * DAY_MS;

const RUN_COLUMNS = `id, created_at, repo, event_type, delivery_id, pr_number, provider, model, conclusion, input_tokens,
  output_tokens, cache_read_tokens, cache_creation_tokens, duration_ms, cost_usd, cost_source, session_id, num_turns,
  stop_reason, attributes`;
/** The columns of a ToolCallView, in the order `toolCallView` reads them. */
export const TOOL_CALL_COLUMNS = `id, created_at, session_id, execution_id, server, tool_name, duration_ms, outcome, error_type,
  input_bytes, output_bytes`;

/** Lists runs newest first, one page per call, continuing after `cursor`. */
export function* runsProgram(dialect: SqlDialect, query: RunsQuery): ReportProgram<RunsPage> {
  const page = yield* pageProgram(dialect, query, {
    table: "executions",
    columns: RUN_COLUMNS,
    globs: [
      ["repo", query.repos],
      ["model", query.models],
      ["event_type", query.events],
      ["conclusion", query.conclusions],
    ],
    equals: [["session_id", query.sessionId]],
    view: runView,
  });
  return { runs: page.items, nextCursor: page.nextCursor };
}

/** One run with its tool calls, rate-limit and cache events and session; null when unknown. */
export function* runDetailProgram(dialect: SqlDialect, id: string): ReportProgram<RunDetail | null> {
  let params = new ParamList(dialect);
  const found: SqlRows = yield { sql: `SELECT ${RUN_COLUMNS} FROM executions WHERE id = ${params.add(id)}`, params: params.values };
  if (found.length === 0) return null;
  const run = runView(found[0]!);
  const createdAt = Date.parse(run.createdAt);
  const from = createdAt - run.durationMs - RELATED_SLACK_MS;
  const to = createdAt + run.durationMs + RELATED_SLACK_MS;

  // Placeholders are positional in some dialects: every value is added in the order the SQL reads.
  params = new ParamList(dialect);
  let toolSql = `SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls WHERE created_at >= ${params.add(from)} AND created_at < ${params.add(to)}
    AND (execution_id = ${params.add(run.id)}`;
  if (run.sessionId !== null) toolSql += ` OR session_id = ${params.add(run.sessionId)}`;
  toolSql += `) ORDER BY created_at, id LIMIT ${RELATED_LIMIT}`;
  const toolCalls = ((yield { sql: toolSql, params: params.values }) as SqlRows).map(toolCallView);

  let cacheEvents: CacheEventView[] = [];
  params = new ParamList(dialect);
  let rateSql = `SELECT id, created_at, resource, degradation, retry_attempts, skipped_queries, "limit", remaining, reset_at
    FROM rate_limit_events WHERE created_at >= ${params.add(from)} AND created_at < ${params.add(to)}
    AND (execution_id = ${params.add(run.id)}`;
  if (run.deliveryId !== null) rateSql += ` OR (delivery_id = ${params.add(run.deliveryId)} AND event_type = ${params.add(run.eventType)})`;
  rateSql += `) ORDER BY created_at, id LIMIT ${RELATED_LIMIT}`;
  const rateLimitEvents = ((yield { sql: rateSql, params: params.values }) as SqlRows).map(rateLimitEventView);
  if (run.deliveryId !== null) {
    params = new ParamList(dialect);
    const cacheSql = `SELECT id, created_at, cache, outcome FROM cache_events WHERE created_at >= ${params.add(from)} AND created_at < ${params.add(to)}
      AND delivery_id = ${params.add(run.deliveryId)} AND event_type = ${params.add(run.eventType)} ORDER BY created_at, id LIMIT ${RELATED_LIMIT}`;
    cacheEvents = ((yield { sql: cacheSql, params: params.values }) as SqlRows).map(cacheEventView);
  }
  let session: SessionView | null = null;
  if (run.sessionId !== null) {
    params = new ParamList(dialect);
    const rows: SqlRows = yield { sql: `SELECT id, started_at, ended_at, source, client_name, client_version FROM sessions WHERE id = ${params.add(run.sessionId)}`, params: params.values };
    session = rows.length > 0 ? sessionView(rows[0]!) : null;
  }
  return { run, toolCalls, rateLimitEvents, cacheEvents, session };
}

/** One session with its newest runs and tool calls; null when unknown. */
export function* sessionDetailProgram(dialect: SqlDialect, id: string): ReportProgram<SessionDetail | null> {
  let params = new ParamList(dialect);
  const rows: SqlRows = yield { sql: `SELECT id, started_at, ended_at, source, client_name, client_version FROM sessions WHERE id = ${params.add(id)}`, params: params.values };
  if (rows.length === 0) return null;
  const session = sessionView(rows[0]!);
  const from = Date.parse(session.startedAt) - RELATED_SLACK_MS;
  const to = session.endedAt === null ? from + OPEN_SESSION_SPAN_MS : Date.parse(session.endedAt) + RELATED_SLACK_MS;
  params = new ParamList(dialect);
  const runSql = `SELECT ${RUN_COLUMNS} FROM executions WHERE created_at >= ${params.add(from)} AND created_at < ${params.add(to)}
    AND session_id = ${params.add(id)} ORDER BY created_at DESC, id DESC LIMIT ${RELATED_LIMIT}`;
  const runs = ((yield { sql: runSql, params: params.values }) as SqlRows).map(runView);
  params = new ParamList(dialect);
  const toolSql = `SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls WHERE created_at >= ${params.add(from)} AND created_at < ${params.add(to)}
    AND session_id = ${params.add(id)} ORDER BY created_at DESC, id DESC LIMIT ${RELATED_LIMIT}`;
  const toolCalls = ((yield { sql: toolSql, params: params.values }) as SqlRows).map(toolCallView);
  return { session, runs, toolCalls };
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const isoOrNull = (ms: unknown) => (ms === null || ms === undefined ? null : iso(ms));
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const textOrNull = (value: unknown) => (value === null || value === undefined ? null : String(value));

function runView(row: Record<string, unknown>): RunView {
  let attributes: Record<string, unknown> | null = null;
  if (typeof row.attributes === "string") {
    try {
      attributes = JSON.parse(row.attributes) as Record<string, unknown>;
    } catch {
      attributes = null;
    }
  }
  return {
    id: String(row.id),
    createdAt: iso(row.created_at),
    repo: String(row.repo),
    eventType: String(row.event_type),
    deliveryId: textOrNull(row.delivery_id),
    prNumber: numberOrNull(row.pr_number),
    provider: String(row.provider),
    model: String(row.model),
    conclusion: String(row.conclusion),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheCreationTokens: Number(row.cache_creation_tokens),
    durationMs: Number(row.duration_ms),
    costUsd: Number(row.cost_usd),
    costSource: String(row.cost_source),
    sessionId: textOrNull(row.session_id),
    numTurns: numberOrNull(row.num_turns),
    stopReason: textOrNull(row.stop_reason),
    attributes,
  };
}

/** A tool_calls row as the API shows it. */
export function toolCallView(row: Record<string, unknown>): ToolCallView {
  return {
    id: String(row.id),
    createdAt: iso(row.created_at),
    sessionId: textOrNull(row.session_id),
    executionId: textOrNull(row.execution_id),
    server: String(row.server),
    toolName: String(row.tool_name),
    durationMs: Number(row.duration_ms),
    outcome: String(row.outcome),
    errorType: textOrNull(row.error_type),
    inputBytes: numberOrNull(row.input_bytes),
    outputBytes: numberOrNull(row.output_bytes),
  };
}

function rateLimitEventView(row: Record<string, unknown>): RateLimitEventView {
  return {
    id: String(row.id),
    createdAt: iso(row.created_at),
    resource: String(row.resource),
    degradation: String(row.degradation),
    retryAttempts: Number(row.retry_attempts),
    skippedQueries: Number(row.skipped_queries),
    limit: numberOrNull(row.limit),
    remaining: numberOrNull(row.remaining),
    resetAt: isoOrNull(row.reset_at),
  };
}

function cacheEventView(row: Record<string, unknown>): CacheEventView {
  return { id: String(row.id), createdAt: iso(row.created_at), cache: String(row.cache), outcome: String(row.outcome) };
}

/** A sessions row as the API shows it. */
export function sessionView(row: Record<string, unknown>): SessionView {
  return {
    id: String(row.id),
    startedAt: iso(row.started_at),
    endedAt: isoOrNull(row.ended_at),
    source: textOrNull(row.source),
    clientName: textOrNull(row.client_name),
    clientVersion: textOrNull(row.client_version),
  };
}
