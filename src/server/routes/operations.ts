/**
 * Health and metrics: `/healthz` (the process answers), `/readyz` (the store takes writes:
 * an empty write goes through it), `/metrics` (Prometheus text).
 */
import { Hono } from "hono";
import type { ReadableStore } from "../../report/readable-store.ts";
import type { ServerMetrics } from "../metrics.ts";
import { problem } from "../problem.ts";

export function operationsRoutes(store: ReadableStore, metrics: ServerMetrics, isClosing: () => boolean): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    if (isClosing()) return problem(c, 503, "shutting down");
    try {
      const result = await store.write([]);
      if (result.ok) return c.json({ ok: true });
      return problem(c, 503, `store not writable: ${result.failure}`);
    } catch {
      return problem(c, 503, "store not writable");
    }
  });
  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { "content-type": metrics.registry.contentType });
  });
  return app;
}
