/** One run: every field, its tool calls on a timeline, its rate-limit and cache events, its session, its pull request. */
import { html } from "htm/preact";
import { getJson } from "../api.ts";
import { Failure, Link, Loading, type Go } from "../components.ts";
import { formatCount, formatDuration, formatTime } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { linkTo, type State } from "../state.ts";
import type { RunDetail, ToolCallView } from "../types.ts";
import { runCost } from "./runs.ts";

/** The pull request of a run, when its repo looks like owner/name and its number is known. */
export function pullRequestUrl(repo: string, prNumber: number | null): string | null {
  if (prNumber === null || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) return null;
  return `https://github.com/${repo}/pull/${prNumber}`;
}

/** A range around a session (as the API looks for its rows: ten minutes either side). */
function sessionRange(session: { startedAt: string; endedAt: string | null }): Partial<State> {
  const slack = 10 * 60_000;
  const since = Date.parse(session.startedAt) - slack;
  const until = session.endedAt === null ? Date.now() + slack : Date.parse(session.endedAt) + slack;
  return { range: "custom", since: new Date(since).toISOString(), until: new Date(until).toISOString() };
}

export function RunPage(props: { state: State; go: Go }) {
  const { state, go } = props;
  const { data, error, loading } = useLoad(JSON.stringify(["run", state.id]), () => getJson<RunDetail>(`runs/${encodeURIComponent(state.id)}`));
  if (data === undefined) return html`<${Failure} error=${error} />${loading ? html`<${Loading} />` : null}`;
  const { run, toolCalls, rateLimitEvents, cacheEvents, session } = data;
  const pr = pullRequestUrl(run.repo, run.prNumber);
  const time = (iso: string) => formatTime(iso, state.tz);
  const fields: [string, unknown][] = [
    ["Id", run.id], ["Time", `${time(run.createdAt)} (${state.tz})`], ["Repo", run.repo], ["Event", run.eventType], ["Delivery", run.deliveryId],
    ["Pull request", run.prNumber], ["Provider", run.provider], ["Model", run.model], ["Conclusion", run.conclusion],
    ["Input tokens", formatCount(run.inputTokens)], ["Output tokens", formatCount(run.outputTokens)],
    ["Cache read tokens", formatCount(run.cacheReadTokens)], ["Cache write tokens", formatCount(run.cacheCreationTokens)],
    ["Cost", run.costSource === "unpriced" ? "unpriced (no price known for this model)" : `${runCost(run)} (${run.costSource})`],
    ["Duration", formatDuration(run.durationMs)], ["Turns", run.numTurns], ["Stop reason", run.stopReason], ["Session", run.sessionId],
  ];
  return html`<section aria-labelledby="run-title" aria-busy=${loading ? "true" : "false"} class="run">
    <${Failure} error=${error} />
    <p><${Link} href=${linkTo(state, { view: "runs", id: "" })} go=${go}>← Runs<//></p>
    <h1 id="run-title">Run <code>${run.id}</code></h1>
    ${pr ? html`<p><a class="pr" href=${pr} rel="noopener noreferrer" target="_blank">${run.repo}#${run.prNumber} on GitHub ↗</a></p>` : null}
    <dl class="fields">
      ${fields.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value === null || value === undefined ? "–" : String(value)}</dd></div>`)}
      ${run.attributes ? html`<div class="wide"><dt>Attributes</dt><dd><pre>${JSON.stringify(run.attributes, null, 2)}</pre></dd></div>` : null}
    </dl>
    <h2>Tool calls (${toolCalls.length})</h2>
    ${toolCalls.length > 0 ? html`<${Timeline} calls=${toolCalls} runEnd=${Date.parse(run.createdAt)} runMs=${run.durationMs} />` : html`<p class="empty">No tool calls.</p>`}
    ${toolCalls.length > 0
      ? html`<div class="scroll"><table class="data" data-table="tool-calls">
          <thead><tr><th scope="col">Time</th><th scope="col">Tool</th><th scope="col">Server</th><th scope="col">Outcome</th><th scope="col" class="num">Duration</th><th scope="col">Error</th></tr></thead>
          <tbody>${toolCalls.map((c) => html`<tr><td>${time(c.createdAt)}</td><td>${c.toolName}</td><td>${c.server}</td>
            <td><span class=${`badge ${c.outcome}`}>${c.outcome}</span></td><td class="num">${formatDuration(c.durationMs)}</td><td>${c.errorType ?? ""}</td></tr>`)}</tbody>
        </table></div>`
      : null}
    <h2>Rate-limit events (${rateLimitEvents.length})</h2>
    ${rateLimitEvents.length > 0
      ? html`<div class="scroll"><table class="data" data-table="rate-limit-events">
          <thead><tr><th scope="col">Time</th><th scope="col">Resource</th><th scope="col">Degradation</th><th scope="col" class="num">Retries</th><th scope="col" class="num">Skipped queries</th><th scope="col" class="num">Remaining / limit</th></tr></thead>
          <tbody>${rateLimitEvents.map((e) => html`<tr><td>${time(e.createdAt)}</td><td>${e.resource}</td><td>${e.degradation}</td>
            <td class="num">${formatCount(e.retryAttempts)}</td><td class="num">${formatCount(e.skippedQueries)}</td>
            <td class="num">${e.remaining ?? "–"} / ${e.limit ?? "–"}</td></tr>`)}</tbody>
        </table></div>`
      : html`<p class="empty">None.</p>`}
    <h2>Cache lookups (${cacheEvents.length})</h2>
    ${cacheEvents.length > 0
      ? html`<div class="scroll"><table class="data" data-table="cache-events">
          <thead><tr><th scope="col">Time</th><th scope="col">Cache</th><th scope="col">Outcome</th></tr></thead>
          <tbody>${cacheEvents.map((e) => html`<tr><td>${time(e.createdAt)}</td><td>${e.cache}</td><td><span class=${`badge ${e.outcome}`}>${e.outcome}</span></td></tr>`)}</tbody>
        </table></div>`
      : html`<p class="empty">None.</p>`}
    <h2>Session</h2>
    ${session
      ? html`<dl class="fields" data-session=${session.id}>
          <div><dt>Id</dt><dd>${session.id}</dd></div>
          <div><dt>Client</dt><dd>${session.clientName ?? "–"} ${session.clientVersion ?? ""}</dd></div>
          <div><dt>Source</dt><dd>${session.source ?? "–"}</dd></div>
          <div><dt>Started</dt><dd>${time(session.startedAt)}</dd></div>
          <div><dt>Ended</dt><dd>${session.endedAt ? time(session.endedAt) : "open"}</dd></div>
          <div><dt>Runs</dt><dd><${Link} href=${linkTo(state, { view: "runs", session: session.id, id: "", ...sessionRange(session) })} go=${go}>this session's runs<//></dd></div>
        </dl>`
      : html`<p class="empty">${run.sessionId ? `Session ${run.sessionId} was not recorded.` : "No session."}</p>`}
  </section>`;
}

/** Tool calls as bars on the run's time axis (a call's time is when it started). */
function Timeline(props: { calls: ToolCallView[]; runEnd: number; runMs: number }) {
  const starts = props.calls.map((c) => Date.parse(c.createdAt));
  const from = Math.min(props.runEnd - props.runMs, ...starts);
  const to = Math.max(props.runEnd, ...props.calls.map((c, i) => starts[i]! + c.durationMs));
  const span = Math.max(1, to - from);
  const pct = (ms: number) => `${((ms / span) * 100).toFixed(2)}%`;
  return html`<ol class="timeline" aria-label="Tool calls over the run's time">
    ${props.calls.map(
      (c, i) => html`<li class=${c.outcome}>
        <span class="label">${c.toolName} <small>+${formatDuration(starts[i]! - from)}</small></span>
        <span class="track"><span class="bar" style=${{ left: pct(starts[i]! - from), width: `max(2px, ${pct(c.durationMs)})` }} title=${`${c.toolName}: ${c.outcome}, ${formatDuration(c.durationMs)}`}></span></span>
      </li>`,
    )}
  </ol>`;
}
