/**
 * Serves the dashboard at `/`: index.html (revalidated every time, so a new build shows at
 * once) and content-hashed assets (immutable for a year), each in the best precompressed form
 * the client accepts. The browser code and the bundler load only at the first request.
 */
import { Hono, type Context } from "hono";
import type { DashboardAsset } from "./asset.ts";
import { loadDashboardAssets } from "./load.ts";

/** Options of {@link dashboardRoutes}. */
export interface DashboardRoutesOptions {
  /** Supplies the files; tests and embedders may pass their own. @default the built dashboard (or, from source under Bun, a fresh build) */
  load?: () => Promise<Map<string, DashboardAsset>>;
}

/**
 * The page may talk only to its own origin; uPlot sizes its elements with inline styles.
 * No inline script, no eval, no other host.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The dashboard's routes, to mount at `/` after the API. */
export function dashboardRoutes(options: DashboardRoutesOptions = {}): Hono {
  const load = options.load ?? loadDashboardAssets;
  let assets: Promise<Map<string, DashboardAsset>> | null = null;
  const app = new Hono();
  const serve = async (c: Context, path: string) => {
    assets ??= load().catch((error: unknown) => {
      assets = null; // try again at the next request: a build may be under way
      throw error;
    });
    let files: Map<string, DashboardAsset>;
    try {
      files = await assets;
    } catch (error) {
      return c.text(`The dashboard is not available: ${(error as Error).message}\n`, 503);
    }
    const file = files.get(path);
    if (file === undefined) return c.notFound();
    return respond(c, file);
  };
  app.get("/", (c) => serve(c, "index.html"));
  app.get("/index.html", (c) => serve(c, "index.html"));
  app.get("/assets/:name{[A-Za-z0-9._-]+}", (c) => serve(c, `assets/${c.req.param("name")}`));
  return app;
}

function respond(c: Context, file: DashboardAsset): Response {
  const headers = new Headers({
    "content-type": file.contentType,
    "cache-control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    etag: file.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
  });
  if (file.path === "index.html") {
    headers.set("content-security-policy", CSP);
    headers.set("referrer-policy", "no-referrer");
  }
  if (c.req.header("if-none-match") === file.etag) return new Response(null, { status: 304, headers });
  const accepted = c.req.header("accept-encoding") ?? "";
  let body = file.body;
  if (/\bbr\b/.test(accepted)) {
    body = file.brotli;
    headers.set("content-encoding", "br");
  } else if (/\bgzip\b/.test(accepted)) {
    body = file.gzip;
    headers.set("content-encoding", "gzip");
  }
  headers.set("content-length", String(body.byteLength));
  return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
}
