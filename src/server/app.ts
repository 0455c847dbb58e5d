/**
 * The server as a Hono app: Web `Request` in, `Response` out, no runtime in it (the listeners
 * in `listen.ts` put it on a socket). Tests call `app.request()` without one.
 */
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { StoreUnavailableError, toError } from "../core/errors.ts";
import { safeLog, silentLogger } from "../core/logger.ts";
import { createPricer, type Pricer, type PricerOptions } from "../pricing/pricer.ts";
import { IngestQueue } from "./ingest-queue.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";
import { createIngestor } from "./ingest.ts";
import { ServerMetrics } from "./metrics.ts";
import { resolveServerAppOptions, type ServerAppOptions } from "./options.ts";
import { problem } from "./problem.ts";
import { batchRoute } from "./routes/batch.ts";
import { operationsRoutes } from "./routes/operations.ts";
import { otlpRoutes } from "./routes/otlp.ts";
import { readApi } from "./routes/read-api.ts";

/** A server app and what its host needs to run and stop it. */
export interface ServerApp {
  /** The Hono app; `app.fetch` answers a Request. */
  app: Hono;
  metrics: ServerMetrics;
  /** Records waiting to be committed. */
  queueDepth(): number;
  /** Refuses new ingest (503), waits for queued records to be committed. Does not close the store. */
  drain(): Promise<void>;
}

/** Builds the server app on a store. Throws TallyConfigError for impossible options. */
export function createServerApp(options: ServerAppOptions): ServerApp {
  const resolved = resolveServerAppOptions(options);
  const logger = resolved.logger ?? silentLogger;
  const pricing = resolved.pricing;
  const pricer: Pricer = pricing && "price" in pricing ? pricing : createPricer((pricing as PricerOptions | undefined) ?? {});
  let closing = false;
  const queue = new IngestQueue(resolved.store, {
    maxQueuedRecords: resolved.maxQueuedRecords,
    maxBatchRecords: resolved.maxBatchRecords,
    onWrite: (seconds, result) => metrics.writeSeconds.observe({ result: result.ok ? "ok" : result.failure }, seconds),
  });
  const metrics = new ServerMetrics(() => queue.depth);
  const ingestor = createIngestor(queue, pricer, metrics, resolved.now);

  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    // The matched route's pattern, never the raw path: labels stay bounded whatever clients send.
    const route = c.res.status === 404 && c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
  });
  if (resolved.corsOrigins.length > 0) app.use("/api/*", cors({ origin: resolved.corsOrigins, allowHeaders: ["authorization", "content-type"] }));
  if (resolved.ingestToken !== undefined) app.use("/v1/*", bearerAuth({ token: resolved.ingestToken }));
  if (resolved.readToken !== undefined) {
    app.use("/api/*", bearerAuth({ token: resolved.readToken }));
    app.use("/metrics", bearerAuth({ token: resolved.readToken }));
  }
  app.route("/", operationsRoutes(resolved.store, metrics, () => closing));
  app.route("/", batchRoute(ingestor, metrics, resolved.maxBodyBytes));
  app.route("/", otlpRoutes(ingestor, metrics, resolved.maxBodyBytes));
  app.route("/", readApi(resolved.store, resolved.reports, resolved.now));
  app.route("/", dashboardRoutes());
  app.notFound((c) => problem(c, 404, `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`));
  let errorLogged = false;
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    if (error instanceof StoreUnavailableError) return problem(c, 503, `the database cannot be read: ${error.message}`, undefined, { "retry-after": "5" });
    if (!errorLogged) {
      // Once: a fault that repeats per request must not flood the log. Never the request's contents.
      errorLogged = true;
      safeLog(logger, "error", { error: toError(error).message, route: c.req.routePath }, "tally serve: unexpected error answering a request");
    }
    return problem(c, 500, "internal error");
  });

  return {
    app,
    metrics,
    queueDepth: () => queue.depth,
    async drain() {
      closing = true;
      await queue.close();
    },
  };
}
