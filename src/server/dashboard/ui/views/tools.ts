/** Tools (MCP analytics): calls, error rate and latency per tool and server, over time; a tool's recent failing calls. */
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { getJson } from "../api.ts";
import { pivot, TimeChart } from "../chart.ts";
import { Failure, Kpi, Link, Loading, type Go } from "../components.ts";
import { formatCount, formatDuration, formatShare, formatTime } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { bucketOf, currentWindow, linkTo, type State, type Window } from "../state.ts";
import type { SessionsPage, ToolCallsPage, ToolsJson } from "../types.ts";
import { describeWindow } from "./overview.ts";

/** Outcomes the tools report counts as errors. */
const FAILING = ["tool_error", "protocol_error"];

interface ToolsData {
  window: Window;
  bucket: "hour" | "day";
  table: ToolsJson;
  series: ToolsJson;
  failing: ToolCallsPage | null;
  sessions: SessionsPage;
}

async function loadTools(state: State): Promise<ToolsData> {
  const window = currentWindow(state, Date.now());
  const bucket = bucketOf(window);
  const range = { since: window.since, until: window.until, tz: state.tz };
  const only = { tool: state.tool, server: state.server };
  const [table, series, failing, sessions] = await Promise.all([
    getJson<ToolsJson>("reports/tools", { ...range, by: "tool,server", sort: "calls" }),
    getJson<ToolsJson>("reports/tools", { ...range, ...only, by: `${bucket},tool` }),
    state.tool ? getJson<ToolCallsPage>("tool-calls", { ...range, ...only, outcome: FAILING, limit: "20" }) : Promise.resolve(null),
    getJson<SessionsPage>("sessions", { since: window.since, until: window.until, limit: "10" }),
  ]);
  return { window, bucket, table, series, failing, sessions };
}

export function Tools(props: { state: State; go: Go }) {
  const { state, go } = props;
  const key = JSON.stringify(["tools", state.range, state.since, state.until, state.tz, state.tool, state.server]);
  const { data, error, loading } = useLoad(key, () => loadTools(state));
  const charts = useMemo(() => {
    if (data === undefined) return null;
    const order = [...new Set(data.table.rows.map((r) => r.group.tool ?? ""))];
    return {
      calls: pivot(data.series.rows, data.bucket, "tool", order, (r) => r.calls, 0),
      errors: pivot(data.series.rows, data.bucket, "tool", order, (r) => (r.calls > 0 ? r.errorRate : null), null),
      p95: pivot(data.series.rows, data.bucket, "tool", order, (r) => r.p95DurationMs, null),
    };
  }, [data]);
  if (data === undefined) return html`<${Failure} error=${error} />${loading && error === undefined ? html`<${Loading} />` : null}`;
  const t = data.table.totals;
  const pct = (v: number) => formatShare(v);
  return html`<section aria-labelledby="tools-title" aria-busy=${loading ? "true" : "false"}>
    <${Failure} error=${error} />
    <h1 id="tools-title">Tools</h1>
    <p class="range">${describeWindow(data.table)} · buckets: ${data.bucket}s</p>
    <dl class="kpis">
      <${Kpi} name="calls" label="Tool calls" value=${formatCount(t.calls)} />
      <${Kpi} name="errorRate" label="Error rate" value=${formatShare(t.errorRate)} hint=${`${formatCount(t.errors)} errors, ${formatCount(t.cancelled)} cancelled`} />
      <${Kpi} name="p50" label="p50 duration" value=${formatDuration(t.p50DurationMs)} />
      <${Kpi} name="p95" label="p95 duration" value=${formatDuration(t.p95DurationMs)} />
      <${Kpi} name="sessions" label="Sessions" value=${formatCount(t.sessions)} />
    </dl>
    <section>
      <h2>Per tool and server</h2>
      <div class="scroll"><table class="data" data-table="tools">
        <thead><tr><th scope="col">Tool</th><th scope="col">Server</th><th scope="col" class="num">Calls</th><th scope="col" class="num">Errors</th>
          <th scope="col" class="num">Error rate</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">Sessions</th><th scope="col">Failing calls</th></tr></thead>
        <tbody>
          ${data.table.rows.length === 0 ? html`<tr><td colspan="9" class="empty">No tool calls in this range.</td></tr>` : null}
          ${data.table.rows.map(
            (r) => html`<tr aria-current=${state.tool === r.group.tool && state.server === r.group.server ? "true" : undefined}>
              <th scope="row">${r.group.tool}</th><td>${r.group.server}</td><td class="num">${formatCount(r.calls)}</td><td class="num">${formatCount(r.errors)}</td>
              <td class="num">${formatShare(r.errorRate)}</td><td class="num">${formatDuration(r.p50DurationMs)}</td><td class="num">${formatDuration(r.p95DurationMs)}</td>
              <td class="num">${formatCount(r.sessions)}</td>
              <td>${r.errors > 0 ? html`<${Link} href=${linkTo(state, { tool: r.group.tool ?? "", server: r.group.server ?? "" })} go=${go}>recent failures<//>` : "–"}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>
    </section>
    ${data.failing !== null ? html`<${Failing} page=${data.failing} state=${state} go=${go} />` : null}
    <div class="charts">
      <${TimeChart} timeZone=${state.tz} title=${`Calls by tool${state.tool ? ` (${state.tool})` : ""}`} buckets=${charts!.calls.buckets} series=${charts!.calls.series} format=${formatCount} />
      <${TimeChart} timeZone=${state.tz} title="Error rate by tool" buckets=${charts!.errors.buckets} series=${charts!.errors.series} format=${pct} />
      <${TimeChart} timeZone=${state.tz} title="p95 duration by tool" buckets=${charts!.p95.buckets} series=${charts!.p95.series} format=${formatDuration} />
    </div>
    <${Sessions} page=${data.sessions} state=${state} go=${go} />
  </section>`;
}

function Failing(props: { page: ToolCallsPage; state: State; go: Go }) {
  const { page, state, go } = props;
  return html`<section aria-labelledby="failing-title" class="failing">
    <h2 id="failing-title">Recent failing calls of ${state.tool}${state.server ? ` on ${state.server}` : ""}</h2>
    <p><${Link} href=${linkTo(state, { tool: "", server: "" })} go=${go}>close<//></p>
    ${page.toolCalls.length === 0
      ? html`<p class="empty">No failing calls in this range.</p>`
      : html`<div class="scroll"><table class="data" data-table="failing-calls">
          <thead><tr><th scope="col">Time</th><th scope="col">Outcome</th><th scope="col">Error</th><th scope="col" class="num">Duration</th><th scope="col">Run</th><th scope="col">Session</th></tr></thead>
          <tbody>${page.toolCalls.map((c) => html`<tr>
            <td>${formatTime(c.createdAt, state.tz)}</td><td><span class=${`badge ${c.outcome}`}>${c.outcome}</span></td><td>${c.errorType ?? ""}</td>
            <td class="num">${formatDuration(c.durationMs)}</td>
            <td>${c.executionId ? html`<${Link} href=${linkTo(state, { view: "run", id: c.executionId })} go=${go}>run<//>` : "–"}</td>
            <td>${c.sessionId ? html`<${Link} href=${linkTo(state, { view: "runs", session: c.sessionId })} go=${go}>runs<//>` : "–"}</td>
          </tr>`)}</tbody>
        </table></div>`}
    ${page.nextCursor ? html`<p class="note">Showing the newest ${page.toolCalls.length}; narrow the range for older ones.</p>` : null}
  </section>`;
}

function Sessions(props: { page: SessionsPage; state: State; go: Go }) {
  const { page, state, go } = props;
  return html`<section aria-labelledby="sessions-title">
    <h2 id="sessions-title">Recent sessions</h2>
    ${page.sessions.length === 0
      ? html`<p class="empty">No sessions started in this range.</p>`
      : html`<div class="scroll"><table class="data" data-table="sessions">
          <thead><tr><th scope="col">Started</th><th scope="col">Client</th><th scope="col">Version</th><th scope="col">Source</th><th scope="col">Ended</th><th scope="col">Runs</th></tr></thead>
          <tbody>${page.sessions.map((s) => html`<tr>
            <td>${formatTime(s.startedAt, state.tz)}</td><td>${s.clientName ?? "–"}</td><td>${s.clientVersion ?? "–"}</td><td>${s.source ?? "–"}</td>
            <td>${s.endedAt ? formatTime(s.endedAt, state.tz) : "open"}</td>
            <td><${Link} href=${linkTo(state, { view: "runs", session: s.id })} go=${go}>runs<//></td>
          </tr>`)}</tbody>
        </table></div>`}
    ${page.nextCursor ? html`<p class="note">The newest ${page.sessions.length} of this range.</p>` : null}
  </section>`;
}
