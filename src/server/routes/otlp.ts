import { Hono } from "hono";
import type { Ingestor } from "../ingest.ts";
import type { ServerMetrics } from "../metrics.ts";

/** OTLP/HTTP routes: wired once the OTLP mapping lands. */
export function otlpRoutes(_ingestor: Ingestor, _metrics: ServerMetrics, _maxBodyBytes: number): Hono {
  return new Hono();
}
