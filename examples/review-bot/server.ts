import { Webhooks } from "@octokit/webhooks";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../../src/index.ts";
import { deliveryContext, type DeliveryContext } from "../../src/capture/github/index.ts";
import type { DeliveryLog } from "./deliveries.ts";
import type { RepoQueue } from "./queue.ts";
import type { Route } from "./router.ts";

/** What the HTTP layer needs. */
export interface ServerDeps {
  secret: string;
  queue: RepoQueue;
  deliveries: DeliveryLog;
  route: (context: DeliveryContext, payload: unknown) => Route;
  logger: Logger;
}

/** GitHub caps webhook payloads at 25 MB. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

/**
 * The webhook endpoint. The signature is checked on the raw body, before anything is parsed
 * or recorded; a verified delivery is routed, de-duplicated, queued, and answered at once
 * (GitHub gives up after 10 s, and a review takes longer).
 */
export function createServer(deps: ServerDeps): Hono {
  const webhooks = new Webhooks({ secret: deps.secret });
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ ok: true, pending: deps.queue.pending }));

  app.post("/webhooks", bodyLimit({ maxSize: MAX_BODY_BYTES }), async (c) => {
    const raw = await c.req.text();
    const signature = c.req.header("x-hub-signature-256");
    if (!(await verified(webhooks, raw, signature))) return c.json({ error: "invalid signature" }, 401);

    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }
    const context = deliveryContext({ headers: c.req.raw.headers, payload });
    const routed = deps.route(context, payload);
    if ("ignored" in routed) return c.json({ ignored: routed.ignored }, 200);
    if (!deps.deliveries.accept(context.deliveryId!)) {
      deps.logger.info({ deliveryId: context.deliveryId }, "review-bot: duplicate delivery ignored");
      return c.json({ duplicate: true }, 200);
    }
    deps.queue.enqueue(routed.repo, routed.job);
    return c.json({ queued: true }, 202);
  });

  return app;
}

/** A missing or malformed signature is a failed one, never an exception. */
async function verified(webhooks: Webhooks, raw: string, signature: string | undefined): Promise<boolean> {
  if (signature === undefined || raw.length === 0) return false;
  try {
    return await webhooks.verify(raw, signature);
  } catch {
    return false;
  }
}
