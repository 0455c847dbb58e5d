/**
 * `POST /v1/batch`: Tally's native ingest. The body is `{ "records": [{ "kind": "execution",
 * "id": "…", …fields of recordExecution }] }` (JSON, gzip or deflate allowed); the answer comes
 * after the valid records are committed and says per item `accepted`, `duplicate`, `invalid`
 * (with the field) or `refused`.
 */
import { Hono } from "hono";
import { BodyError, mediaType, readBody } from "../body.ts";
import type { Ingestor } from "../ingest.ts";
import type { ServerMetrics } from "../metrics.ts";
import { problem } from "../problem.ts";

/** Records per request at most; a client with more sends several requests. */
export const MAX_BATCH_ITEMS = 10_000;

export function batchRoute(ingestor: Ingestor, metrics: ServerMetrics, maxBodyBytes: number): Hono {
  const app = new Hono();
  app.post("/v1/batch", async (c) => {
    const type = mediaType(c.req.raw);
    if (type !== "application/json") {
      metrics.turnedAway.inc({ reason: "bad_request" });
      return problem(c, 415, "send application/json", "POST /v1/batch takes { records: [{ kind, id, …fields }] } as JSON");
    }
    let body: unknown;
    try {
      const bytes = await readBody(c.req.raw, maxBodyBytes);
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      metrics.turnedAway.inc({ reason: error instanceof BodyError && error.status === 413 ? "too_large" : "bad_request" });
      if (error instanceof BodyError) return problem(c, error.status, error.message);
      return problem(c, 400, "the body is not valid UTF-8 JSON");
    }
    const records = (body as { records?: unknown } | null)?.records;
    if (typeof body !== "object" || body === null || Array.isArray(body) || !Array.isArray(records)) {
      metrics.turnedAway.inc({ reason: "bad_request" });
      return problem(c, 400, "the body must be an object with a records array", "{ \"records\": [{ \"kind\": \"execution\", \"id\": \"…\", \"model\": \"…\", \"conclusion\": \"success\" }] }");
    }
    if (records.length > MAX_BATCH_ITEMS) {
      metrics.turnedAway.inc({ reason: "too_large" });
      return problem(c, 413, `at most ${MAX_BATCH_ITEMS} records per request`, "split the batch");
    }
    const outcome = await ingestor.ingest(records.map((item: unknown) => ({ kind: (item as { kind?: unknown } | null)?.kind, value: item })));
    if (!outcome.ok) return problem(c, outcome.status, outcome.message, undefined, { "retry-after": String(outcome.retryAfterSeconds) });
    return c.json(outcome, 200);
  });
  return app;
}
