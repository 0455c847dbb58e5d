import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error answer, the same shape on every route: `{ error: { message, hint? } }`. */
export function problem(c: Context, status: ContentfulStatusCode, message: string, hint?: string, headers?: Record<string, string>) {
  return c.json({ error: hint === undefined ? { message } : { message, hint } }, status, headers);
}
