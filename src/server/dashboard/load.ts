/**
 * Where the dashboard's files come from: the package's built `dist/dashboard/` (read once), or,
 * when the server runs from source under Bun, a fresh in-memory build (never a stale copy).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { contentTypeOf, type DashboardAsset } from "./asset.ts";

/** The built files beside the compiled server: dist/server/dashboard/ → dist/dashboard/. */
const BUILT_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith(".ts");

/** Loads the dashboard's files; throws when there are none and none can be built. */
export async function loadDashboardAssets(): Promise<Map<string, DashboardAsset>> {
  let assets: DashboardAsset[];
  if (FROM_SOURCE && typeof (globalThis as { Bun?: unknown }).Bun !== "undefined") {
    assets = await (await import("./build.ts")).buildDashboardAssets();
  } else if (existsSync(join(BUILT_DIR, "index.html"))) {
    assets = readBuilt(BUILT_DIR);
  } else {
    throw new Error(`the dashboard is not built (no ${BUILT_DIR}index.html): run npm run build`);
  }
  return new Map(assets.map((a) => [a.path, a]));
}

function readBuilt(dir: string): DashboardAsset[] {
  const paths = ["index.html", ...readdirSync(join(dir, "assets")).filter((f) => !/\.(gz|br)$/.test(f)).map((f) => `assets/${f}`)];
  return paths.map((path) => {
    const file = join(dir, path);
    const body = new Uint8Array(readFileSync(file));
    return {
      path,
      body,
      gzip: new Uint8Array(readFileSync(`${file}.gz`)),
      brotli: new Uint8Array(readFileSync(`${file}.br`)),
      contentType: contentTypeOf(path),
      etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 12)}"`,
      immutable: path !== "index.html",
    };
  });
}
