/**
 * The read API: reports with the CLI's options and exactly its `--json` shape, the runs behind
 * them, one run, one session. Request schemas (zod) validate the query and produce the OpenAPI
 * document at /api/v1/openapi.json, so the two cannot disagree.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ReportOptionError, readReportSpec, readTimeRange, reportJson, REPORT_OPTIONS, type ReportOptionValues } from "../../report/request.ts";
import type { ReadableStore } from "../../report/readable-store.ts";
import { sessionsProgram } from "../../report/sessions.ts";
import { toolCallsProgram } from "../../report/tool-calls.ts";
import { CursorError, type PageQuery } from "../../report/page.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";
import type { ReportProgram } from "../../report/sql/query.ts";
import { runDetailProgram, runsProgram, sessionDetailProgram } from "../../report/runs.ts";
import { problem } from "../problem.ts";

/** A query value that may repeat (`?by=repo&by=model`) or be comma-separated (`?by=repo,model`). */
const list = z.union([z.string(), z.array(z.string())]).optional();
const text = z.string().max(1024).optional();

const ReportQuery = z
  .object({
    by: list.openapi({ description: "group by these dimensions (repeat or comma-separate)", example: "repo,model" }),
    since: text.openapi({ description: "from: 7d (the last 7 × 24 h), 12h, 90m, today, yesterday, a date, or an ISO time", example: "7d" }),
    until: text.openapi({ description: "to, excluded (a date includes that whole day)" }),
    tz: text.openapi({ description: "IANA zone where hours, days, weeks and months begin", example: "Europe/Berlin" }),
    sort: text.openapi({ description: "sort rows by this field, largest first (usage and tools)" }),
    limit: text.openapi({ description: "at most this many rows; totals still cover all" }),
    exact: z.enum(["true", "false"]).optional().openapi({ description: "read raw rows only (exact percentiles)" }),
    percentiles: z.enum(["true", "false"]).optional().openapi({ description: "false: leave p50/p95 out (faster; usage and tools)" }),
    repo: list.openapi({ description: "only these repos (glob)" }),
    model: list.openapi({ description: "only these models (glob)" }),
    event: list.openapi({ description: "only these event types (glob)" }),
    conclusion: list.openapi({ description: "only these conclusions (glob; usage)" }),
    tool: list.openapi({ description: "only these tools (glob)" }),
    server: list.openapi({ description: "only these servers (glob)" }),
  })
  .openapi("ReportQuery");

const RunsQuerySchema = z
  .object({
    since: text.openapi({ description: "from (as in reports)", example: "24h" }),
    until: text.openapi({ description: "to, excluded" }),
    tz: text.openapi({ description: "zone for dates in since/until" }),
    repo: list.openapi({ description: "only these repos (glob)" }),
    model: list.openapi({ description: "only these models (glob)" }),
    event: list.openapi({ description: "only these event types (glob)" }),
    conclusion: list.openapi({ description: "only these conclusions (glob)" }),
    session: text.openapi({ description: "only this session's runs" }),
    limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: "runs per page, 1 to 500 (default 50)" }),
    cursor: text.openapi({ description: "nextCursor of the previous page" }),
  })
  .openapi("RunsQuery");

const ToolCallsQuerySchema = z
  .object({
    since: text.openapi({ description: "from (as in reports)", example: "24h" }),
    until: text.openapi({ description: "to, excluded" }),
    tz: text.openapi({ description: "zone for dates in since/until" }),
    tool: list.openapi({ description: "only these tools (glob)" }),
    server: list.openapi({ description: "only these servers (glob)" }),
    outcome: list.openapi({ description: "only these outcomes: ok, tool_error, protocol_error, cancelled (glob)" }),
    session: text.openapi({ description: "only this session's calls" }),
    limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: "calls per page, 1 to 500 (default 50)" }),
    cursor: text.openapi({ description: "nextCursor of the previous page" }),
  })
  .openapi("ToolCallsQuery");

const SessionsQuerySchema = z
  .object({
    since: text.openapi({ description: "from (as in reports)", example: "24h" }),
    until: text.openapi({ description: "to, excluded" }),
    tz: text.openapi({ description: "zone for dates in since/until" }),
    limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: "sessions per page, 1 to 500 (default 50)" }),
    cursor: text.openapi({ description: "nextCursor of the previous page" }),
  })
  .openapi("SessionsQuery");

const Id = z.object({ id: z.string().min(1).max(256).openapi({ param: { name: "id", in: "path" } }) });
const Json = z.record(z.string(), z.unknown());
const ok = (description: string) => ({ 200: { description, content: { "application/json": { schema: Json } } } });
const errors = {
  400: { description: "a wrong option, named, with a hint", content: { "application/json": { schema: Json } } },
  401: { description: "missing or wrong read token" },
};

const asList = (value: string | string[] | undefined) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/**
 * Filters of the runs and tool-calls listings are held to the limits reports apply
 * (src/report/request.ts): each pattern is one OR term and one bound GLOB pattern, and SQLite
 * refuses an expression 1000 terms deep or a pattern of 50 000 bytes with an error that would
 * otherwise be a 500.
 */
const MAX_FILTER_PATTERNS = 100;
const MAX_FILTER_PATTERN_LENGTH = 1024;

/** Why these filters cannot be used (the 400's message), or null. */
function filterProblem(filters: Record<string, string[] | undefined>): string | null {
  for (const [option, patterns] of Object.entries(filters)) {
    if (patterns === undefined) continue;
    if (patterns.length > MAX_FILTER_PATTERNS) return `at most ${MAX_FILTER_PATTERNS} ${option} patterns`;
    if (patterns.some((p) => p.length > MAX_FILTER_PATTERN_LENGTH)) return `${option} value is too long (at most ${MAX_FILTER_PATTERN_LENGTH} characters)`;
  }
  return null;
}

/** Mounts the read API on `app`; `now` is the server's clock. */
export function readApi(store: ReadableStore, reports: Pick<ReadableStore, "report">, now: () => number): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        return problem(c, 400, `${issue?.path.join(".") || "query"}: ${issue?.message ?? "invalid"}`);
      }
      return undefined;
    },
  });

  /**
   * One page of a listing: its filters and range checked (400 with the option named), the
   * program run, a cursor this server did not make refused (400).
   */
  async function answerPage(
    c: Context,
    query: { since?: string; until?: string; tz?: string; limit?: string; cursor?: string },
    filters: Record<string, string[] | undefined>,
    program: (page: PageQuery) => (dialect: SqlDialect) => ReportProgram<unknown>,
  ): Promise<Response> {
    const wrong = filterProblem(filters);
    if (wrong !== null) return problem(c, 400, wrong);
    try {
      const page: PageQuery = {
        range: readTimeRange(query, { now: now(), defaultTimeZone: "UTC" }),
        ...(query.limit !== undefined ? { limit: Number(query.limit) } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      };
      return c.json((await store.read(program(page))) as Record<string, unknown>, 200);
    } catch (error) {
      if (error instanceof ReportOptionError) return problem(c, 400, error.message, error.hint);
      if (error instanceof CursorError) return problem(c, 400, error.message, "pass nextCursor from the previous page as it came");
      throw error;
    }
  }

  for (const kind of ["usage", "tools", "degradations"] as const) {
    const route = createRoute({
      method: "get",
      path: `/api/v1/reports/${kind}`,
      summary: `The ${kind} report, as \`tally ${kind === "usage" ? "report" : kind} --json\` prints it`,
      request: { query: ReportQuery },
      responses: { ...ok(`the report; range states the resolved window and zone (dimensions: ${REPORT_OPTIONS[kind].dimensions.join(", ")})`), ...errors },
    });
    app.openapi(route, async (c) => {
      const query = c.req.valid("query");
      const values: ReportOptionValues = {
        by: asList(query.by),
        since: query.since,
        until: query.until,
        tz: query.tz,
        sort: query.sort,
        limit: query.limit,
        exact: query.exact === "true",
        percentiles: query.percentiles !== "false",
        filters: {
          repo: asList(query.repo), model: asList(query.model), event: asList(query.event), conclusion: asList(query.conclusion),
          tool: asList(query.tool), server: asList(query.server),
        },
      };
      try {
        const spec = readReportSpec(kind, values, { now: now(), defaultTimeZone: "UTC" });
        return c.json(reportJson(await reports.report(spec)) as Record<string, unknown>, 200);
      } catch (error) {
        if (error instanceof ReportOptionError) return problem(c, 400, error.message, error.hint);
        throw error;
      }
    });
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/runs",
      summary: "Runs, newest first, a page at a time (follow nextCursor)",
      request: { query: RunsQuerySchema },
      responses: { ...ok("{ runs, nextCursor }"), ...errors },
    }),
    (c) => {
      const query = c.req.valid("query");
      const filters = { repo: asList(query.repo), model: asList(query.model), event: asList(query.event), conclusion: asList(query.conclusion) };
      return answerPage(c, query, filters, (page) => (dialect) =>
        runsProgram(dialect, { ...page, repos: filters.repo, models: filters.model, events: filters.event, conclusions: filters.conclusion, sessionId: query.session }),
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/tool-calls",
      summary: "Tool calls, newest first, a page at a time (follow nextCursor)",
      request: { query: ToolCallsQuerySchema },
      responses: { ...ok("{ toolCalls, nextCursor }"), ...errors },
    }),
    (c) => {
      const query = c.req.valid("query");
      const filters = { tool: asList(query.tool), server: asList(query.server), outcome: asList(query.outcome) };
      return answerPage(c, query, filters, (page) => (dialect) =>
        toolCallsProgram(dialect, { ...page, tools: filters.tool, servers: filters.server, outcomes: filters.outcome, sessionId: query.session }),
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/sessions",
      summary: "Sessions (client name and version), newest first, a page at a time (follow nextCursor)",
      request: { query: SessionsQuerySchema },
      responses: { ...ok("{ sessions, nextCursor }"), ...errors },
    }),
    (c) => {
      const query = c.req.valid("query");
      return answerPage(c, query, {}, (page) => (dialect) => sessionsProgram(dialect, page));
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/runs/{id}",
      summary: "One run with its tool calls, rate-limit and cache events, and session",
      request: { params: Id },
      responses: { ...ok("{ run, toolCalls, rateLimitEvents, cacheEvents, session }"), 404: { description: "no run with this id" }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const detail = await store.read((dialect) => runDetailProgram(dialect, id));
      if (detail === null) return problem(c, 404, "no run with this id");
      return c.json(detail as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/sessions/{id}",
      summary: "One session with its runs and tool calls",
      request: { params: Id },
      responses: { ...ok("{ session, runs, toolCalls }"), 404: { description: "no session with this id" }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const detail = await store.read((dialect) => sessionDetailProgram(dialect, id));
      if (detail === null) return problem(c, 404, "no session with this id");
      return c.json(detail as unknown as Record<string, unknown>, 200);
    },
  );

  app.doc("/api/v1/openapi.json", {
    openapi: "3.0.0",
    info: { title: "Tally read API", version: "1", description: "Reports, runs and sessions. Send the read token as `Authorization: Bearer …` when the server has one." },
  });
  return app;
}

