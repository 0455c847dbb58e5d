/** Degradations and caches: how many runs rate limits degraded, retries and skipped queries by resource over time, cache hit rates. */
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { getJson } from "../api.ts";
import { pivot, TimeChart } from "../chart.ts";
import { Failure, Kpi, Loading, type Go } from "../components.ts";
import { formatCount, formatShare, share } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { bucketOf, currentWindow, type State } from "../state.ts";
import type { DegradationsJson } from "../types.ts";
import { describeWindow } from "./overview.ts";

async function loadDegradations(state: State) {
  const window = currentWindow(state, Date.now());
  const bucket = bucketOf(window);
  const query = { since: window.since, until: window.until, tz: state.tz, repo: state.repo };
  const [byResource, series] = await Promise.all([
    getJson<DegradationsJson>("reports/degradations", { ...query, by: "resource" }),
    getJson<DegradationsJson>("reports/degradations", { ...query, by: `${bucket},resource` }),
  ]);
  return { bucket, byResource, series };
}

export function Degradations(props: { state: State; go: Go }) {
  const { state } = props;
  const key = JSON.stringify(["degradations", state.range, state.since, state.until, state.tz, state.repo]);
  const { data, error, loading } = useLoad(key, () => loadDegradations(state));
  const charts = useMemo(() => {
    if (data === undefined) return null;
    const order = data.byResource.rows.map((r) => r.group.resource ?? "");
    return {
      degraded: pivot(data.series.rows, data.bucket, "resource", order, (r) => r.degradedRuns, 0),
      retries: pivot(data.series.rows, data.bucket, "resource", order, (r) => r.retryAttempts, 0),
      skipped: pivot(data.series.rows, data.bucket, "resource", order, (r) => r.skippedQueries, 0),
      hitRate: pivot(
        (data.series.cacheSeries ?? []).map((r) => ({ ...r, group: { ...r.group, cache: r.cache } })),
        data.bucket, "cache", data.byResource.caches.map((c) => c.cache), (r) => r.hitRate, null,
      ),
    };
  }, [data]);
  if (data === undefined) return html`<${Failure} error=${error} />${loading && error === undefined ? html`<${Loading} />` : null}`;
  const r = data.byResource;
  const t = r.totals;
  const kinds = [...new Set(r.rows.flatMap((row) => Object.keys(row.byDegradation)))].sort();
  return html`<section aria-labelledby="degradations-title" aria-busy=${loading ? "true" : "false"}>
    <${Failure} error=${error} />
    <h1 id="degradations-title">Degradations and caches</h1>
    <p class="range">${describeWindow(r)} · buckets: ${data.bucket}s</p>
    <dl class="kpis">
      <${Kpi} name="degradedShare" label="Runs degraded" value=${formatShare(share(t.degradedRuns, r.totalRuns))} hint=${`${formatCount(t.degradedRuns)} of ${formatCount(r.totalRuns)} runs`} />
      <${Kpi} name="degradedRuns" label="Degraded runs" value=${formatCount(t.degradedRuns)} />
      <${Kpi} name="retries" label="Retries" value=${formatCount(t.retryAttempts)} />
      <${Kpi} name="skipped" label="Skipped queries" value=${formatCount(t.skippedQueries)} />
    </dl>
    <section>
      <h2>By resource</h2>
      <div class="scroll"><table class="data" data-table="resources">
        <thead><tr><th scope="col">Resource</th><th scope="col" class="num">Degraded runs</th><th scope="col" class="num">Retries</th><th scope="col" class="num">Skipped queries</th>
          ${kinds.map((k) => html`<th scope="col" class="num">${k}</th>`)}</tr></thead>
        <tbody>
          ${r.rows.length === 0 ? html`<tr><td colspan=${4 + kinds.length} class="empty">No degraded runs in this range.</td></tr>` : null}
          ${r.rows.map((row) => html`<tr><th scope="row">${row.group.resource}</th><td class="num">${formatCount(row.degradedRuns)}</td>
            <td class="num">${formatCount(row.retryAttempts)}</td><td class="num">${formatCount(row.skippedQueries)}</td>
            ${kinds.map((k) => html`<td class="num">${formatCount(row.byDegradation[k] ?? 0)}</td>`)}</tr>`)}
        </tbody>
      </table></div>
    </section>
    <div class="charts">
      <${TimeChart} sparse timeZone=${state.tz} title="Degraded runs by resource" buckets=${charts!.degraded.buckets} series=${charts!.degraded.series} format=${formatCount} />
      <${TimeChart} sparse timeZone=${state.tz} title="Retries by resource" buckets=${charts!.retries.buckets} series=${charts!.retries.series} format=${formatCount} />
      <${TimeChart} sparse timeZone=${state.tz} title="Skipped queries by resource" buckets=${charts!.skipped.buckets} series=${charts!.skipped.series} format=${formatCount} />
    </div>
    <section>
      <h2>Caches</h2>
      <div class="scroll"><table class="data" data-table="caches">
        <thead><tr><th scope="col">Cache</th><th scope="col" class="num">Hit rate</th><th scope="col" class="num">Hits</th><th scope="col" class="num">Misses</th><th scope="col" class="num">Errors</th></tr></thead>
        <tbody>
          ${r.caches.length === 0 ? html`<tr><td colspan="5" class="empty">No cache lookups in this range.</td></tr>` : null}
          ${r.caches.map((c) => html`<tr><th scope="row">${c.cache}</th><td class="num">${formatShare(c.hitRate)}</td><td class="num">${formatCount(c.hits)}</td>
            <td class="num">${formatCount(c.misses)}</td><td class="num">${formatCount(c.errors)}</td></tr>`)}
        </tbody>
      </table></div>
    </section>
    <div class="charts">
      <${TimeChart} timeZone=${state.tz} title="Cache hit rate by cache" buckets=${charts!.hitRate.buckets} series=${charts!.hitRate.series} format=${formatShare} />
    </div>
  </section>`;
}
