/** `npm run build:dashboard`: bundles the dashboard into dist/dashboard/ (run by `npm run build`, after tsc). */
import { buildDashboardAssets, writeDashboardAssets } from "../src/server/dashboard/build.ts";

const dir = new URL("../dist/dashboard/", import.meta.url).pathname;
const assets = await buildDashboardAssets();
writeDashboardAssets(assets, dir);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
for (const a of assets) console.log(`dist/dashboard/${a.path}  ${kb(a.body.length)}  gzip ${kb(a.gzip.length)}  br ${kb(a.brotli.length)}`);
