/**
 * Builds the dashboard's browser assets with Bun's bundler: one JS module (Preact, htm, uPlot
 * and the views, minified), one stylesheet, an index.html that names them by content hash, each
 * precompressed (brotli and gzip), so the server only picks a file. `npm run build` writes them
 * to `dist/dashboard/`; a server running from source builds them in memory at first request.
 * Bun only: Node never loads this file (it reads the built files).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { contentTypeOf, type DashboardAsset } from "./asset.ts";

const UI_DIR = new URL("./ui/", import.meta.url).pathname;

/** Bundles, hashes and compresses the dashboard; returns every file it serves. */
export async function buildDashboardAssets(): Promise<DashboardAsset[]> {
  if (typeof globalThis.Bun === "undefined") throw new Error("the dashboard is built with Bun (npm run build:dashboard)");
  const result = await Bun.build({ entrypoints: [join(UI_DIR, "main.ts")], target: "browser", format: "esm", minify: true, sourcemap: "none" });
  if (!result.success) throw new Error(`dashboard build failed: ${result.logs.map(String).join("\n")}`);
  const script = new TextEncoder().encode(await result.outputs[0]!.text());
  const require = createRequire(import.meta.url);
  const css = `${readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8")}\n${readFileSync(join(UI_DIR, "styles.css"), "utf8")}`;
  const style = new TextEncoder().encode(css);
  const scriptName = `assets/app-${hash(script)}.js`;
  const styleName = `assets/app-${hash(style)}.css`;
  const html = readFileSync(join(UI_DIR, "index.html"), "utf8").replace("%STYLE%", styleName).replace("%SCRIPT%", scriptName);
  return [
    asset("index.html", new TextEncoder().encode(html), false),
    asset(scriptName, script, true),
    asset(styleName, style, true),
  ];
}

const hash = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex").slice(0, 12);

function asset(path: string, body: Uint8Array, immutable: boolean): DashboardAsset {
  return {
    path,
    body,
    gzip: new Uint8Array(gzipSync(body, { level: 9 })),
    brotli: new Uint8Array(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })),
    contentType: contentTypeOf(path),
    etag: `"${hash(body)}"`,
    immutable,
  };
}

/** Writes the assets under `dir` (each with `.gz` and `.br` beside it), replacing what was there. */
export function writeDashboardAssets(assets: DashboardAsset[], dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const a of assets) {
    const file = join(dir, a.path);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, a.body);
    writeFileSync(`${file}.gz`, a.gzip);
    writeFileSync(`${file}.br`, a.brotli);
  }
}
