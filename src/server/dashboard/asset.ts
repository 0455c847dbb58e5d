/** One file the dashboard serves, with its precompressed forms. */
export interface DashboardAsset {
  /** Path under the dashboard's root, without a leading slash: `index.html`, `assets/app-1a2b.js`. */
  path: string;
  body: Uint8Array;
  gzip: Uint8Array;
  brotli: Uint8Array;
  contentType: string;
  /** A strong validator: the hash of `body`. */
  etag: string;
  /** Named by its content hash: cacheable forever. index.html is not. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** The Content-Type of a dashboard file, by its extension. */
export function contentTypeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}
