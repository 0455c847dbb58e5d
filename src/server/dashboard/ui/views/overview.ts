/** Overview: KPIs against the previous period, cost and runs over time split by a dimension, top lists by cost. */
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { getJson } from "../api.ts";
import { pivot, TimeChart } from "../chart.ts";
import { Failure, Kpi, Link, Loading, type Go } from "../components.ts";
import { formatChange, formatCost, formatCount, formatDuration, formatShare, formatUsd, share } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { bucketOf, currentWindow, linkTo, previousWindow, SPLITS, type State, type Window } from "../state.ts";
import type { UsageJson, UsageRow } from "../types.ts";

/** The filters of a usage report from the state. */
export function usageFilters(state: State) {
  return { repo: state.repo, model: state.model, event: state.event, conclusion: state.conclusion, tz: state.tz };
}

const TOPS = [["repo", "Top repos by cost"], ["model", "Top models by cost"], ["event", "Top event types by cost"]] as const;

interface OverviewData {
  window: Window;
  bucket: "hour" | "day";
  split: State["split"];
  /** Cost and runs per bucket and split value (no percentiles). */
  series: UsageJson;
  /** The range's totals, p95 included. */
  current: UsageJson;
  previous: UsageJson;
  tops: Record<string, UsageJson>;
}

async function loadOverview(state: State): Promise<OverviewData> {
  const window = currentWindow(state, Date.now());
  const before = previousWindow(window);
  const bucket = bucketOf(window);
  const base = usageFilters(state);
  const usage = (query: Record<string, string>) => getJson<UsageJson>("reports/usage", { ...base, ...query });
  // Sums only where no percentile is shown: the duration sketches are most of a rollup row.
  const top = (by: string) => usage({ since: window.since, until: window.until, by, sort: "cost", limit: "10", percentiles: "false" });
  const dims = [...new Set(["repo", "model", "event", state.split])];
  const [series, current, previous, ...tops] = await Promise.all([
    usage({ since: window.since, until: window.until, by: `${bucket},${state.split}`, percentiles: "false" }),
    // Only their totals are shown (p95 included): grouped by provider, they read the smallest rollup.
    usage({ since: window.since, until: window.until, by: "provider" }),
    usage({ since: before.since, until: before.until, by: "provider" }),
    ...dims.map(top),
  ]);
  return {
    window,
    bucket,
    split: state.split,
    series: series!,
    current: current!,
    previous: previous!,
    tops: Object.fromEntries(dims.map((d, i) => [d, tops[i]!])),
  };
}

const cacheShare = (t: UsageRow) => share(t.cacheReadTokens, t.inputTokens + t.cacheReadTokens + t.cacheCreationTokens);

export function Overview(props: { state: State; go: Go }) {
  const { state, go } = props;
  const key = JSON.stringify(["overview", state.range, state.since, state.until, usageFilters(state), state.split]);
  const { data, error, loading } = useLoad(key, () => loadOverview(state));
  const charts = useMemo(() => {
    if (data === undefined) return null;
    const order = data.tops[data.split]!.rows.map((r) => r.group[data.split] ?? "");
    return {
      cost: pivot(data.series.rows, data.bucket, data.split, order, (r) => r.costUsd, 0),
      runs: pivot(data.series.rows, data.bucket, data.split, order, (r) => r.runs, 0),
    };
  }, [data]);
  if (data === undefined) return html`<${Failure} error=${error} />${loading && error === undefined ? html`<${Loading} />` : null}`;
  const t = data.current.totals;
  const p = data.previous.totals;
  const unpriced = t.unpricedRuns;
  return html`<section aria-labelledby="overview-title" aria-busy=${loading ? "true" : "false"}>
    <${Failure} error=${error} />
    <h1 id="overview-title">Overview</h1>
    <p class="range">${describeWindow(data.current)} · buckets: ${data.bucket}s · change against the ${describePrevious(data.previous)}</p>
    <dl class="kpis">
      <${Kpi} name="cost" label="Cost" value=${formatCost(t.costUsd, unpriced)} change=${formatChange(t.costUsd, p.costUsd)} />
      <${Kpi} name="runs" label="Runs" value=${formatCount(t.runs)} change=${formatChange(t.runs, p.runs)} />
      <${Kpi} name="success" label="Success rate" value=${formatShare(share(t.successes, t.runs))} change=${formatChange(share(t.successes, t.runs), share(p.successes, p.runs))}
        hint=${`${formatCount(t.failures)} failed, ${formatCount(t.errors)} errors`} />
      <${Kpi} name="input" label="Input tokens" value=${formatCount(t.inputTokens)} change=${formatChange(t.inputTokens, p.inputTokens)} />
      <${Kpi} name="output" label="Output tokens" value=${formatCount(t.outputTokens)} change=${formatChange(t.outputTokens, p.outputTokens)} />
      <${Kpi} name="cacheRead" label="Cache read tokens" value=${formatCount(t.cacheReadTokens)} change=${formatChange(t.cacheReadTokens, p.cacheReadTokens)} />
      <${Kpi} name="cacheWrite" label="Cache write tokens" value=${formatCount(t.cacheCreationTokens)} change=${formatChange(t.cacheCreationTokens, p.cacheCreationTokens)} />
      <${Kpi} name="cacheShare" label="Cache share of input" value=${formatShare(cacheShare(t))} change=${formatChange(cacheShare(t), cacheShare(p))} />
      <${Kpi} name="p95" label="p95 duration" value=${formatDuration(t.p95DurationMs)} change=${formatChange(t.p95DurationMs, p.p95DurationMs)} />
      <${Kpi} name="unpriced" label="Unpriced runs" value=${formatCount(unpriced)} change=${formatChange(unpriced, p.unpricedRuns)} />
    </dl>
    ${unpriced > 0
      ? html`<p class="unpriced" role="note">* ${formatCount(unpriced)} ${unpriced === 1 ? "run" : "runs"} could not be priced (${data.current.unpricedModels.join(", ")}): their cost is not in the totals.</p>`
      : null}
    <div class="split" role="group" aria-label="Split the charts by">
      <span>Split by</span>
      ${SPLITS.map((s) => html`<${Link} class="chip" href=${linkTo(state, { split: s })} go=${go} current=${state.split === s}>${s}<//>`)}
    </div>
    <div class="charts">
      <${TimeChart} timeZone=${state.tz} title=${`Cost by ${data.split}`} buckets=${charts!.cost.buckets} series=${charts!.cost.series} format=${formatUsd}
        note=${chartNote(charts!.cost.hidden, unpriced)} />
      <${TimeChart} timeZone=${state.tz} title=${`Runs by ${data.split}`} buckets=${charts!.runs.buckets} series=${charts!.runs.series} format=${formatCount}
        note=${chartNote(charts!.runs.hidden, 0)} />
    </div>
    <div class="tops">
      ${TOPS.map(([dim, title]) => html`<${TopTable} title=${title} dim=${dim} report=${data.tops[dim]!} state=${state} go=${go} />`)}
    </div>
  </section>`;
}

function chartNote(hidden: number, unpriced: number): string | undefined {
  const parts = [];
  if (hidden > 0) parts.push(`the ${hidden} smaller series are in the table only`);
  if (unpriced > 0) parts.push("unpriced runs add nothing to cost");
  return parts.length > 0 ? `${parts.join("; ")}.` : undefined;
}

/** The range an answer covers, in the page's zone. */
export function describeWindow(report: { range: { since: string | null; until: string | null; timeZone: string } }): string {
  const { since, until, timeZone } = report.range;
  const fmt = (iso: string | null) => (iso === null ? "…" : new Date(iso).toLocaleString("en-GB", { timeZone, dateStyle: "medium", timeStyle: "short" }));
  return `${fmt(since)} – ${fmt(until)} (${timeZone})`;
}

function describePrevious(report: UsageJson): string {
  return `previous period, ${describeWindow(report)}`;
}

function TopTable(props: { title: string; dim: string; report: UsageJson; state: State; go: Go }) {
  const { dim, report, state, go } = props;
  return html`<section class="top-table" data-top=${dim}>
    <h3>${props.title}</h3>
    ${report.rows.length === 0
      ? html`<p class="empty">No runs.</p>`
      : html`<div class="scroll"><table class="data">
          <thead><tr><th scope="col">${dim}</th><th scope="col" class="num">Cost</th><th scope="col" class="num">Runs</th></tr></thead>
          <tbody>${report.rows.map((r) => {
            const value = r.group[dim as keyof typeof r.group] ?? "";
            return html`<tr>
              <th scope="row"><${Link} href=${linkTo(state, { view: "runs", [dim]: value })} go=${go}>${value}<//></th>
              <td class="num">${formatCost(r.costUsd, r.unpricedRuns)}</td><td class="num">${formatCount(r.runs)}</td>
            </tr>`;
          })}</tbody>
        </table></div>`}
  </section>`;
}
