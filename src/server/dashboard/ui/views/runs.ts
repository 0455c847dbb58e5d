/** Runs: the runs behind the numbers, newest first, a page at a time, filtered as the other views. */
import { html } from "htm/preact";
import { getJson } from "../api.ts";
import { Failure, Link, Loading, type Go } from "../components.ts";
import { formatCount, formatDuration, formatTime, formatUsd } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { currentWindow, linkTo, type State } from "../state.ts";
import type { RunsPage } from "../types.ts";

type Run = RunsPage["runs"][number];

/** Orders within the page shown; the API pages newest first. */
const SORTS: Record<string, [string, (a: Run, b: Run) => number]> = {
  "": ["newest first", () => 0],
  oldest: ["oldest first", (a, b) => a.createdAt.localeCompare(b.createdAt)],
  cost: ["cost, highest first", (a, b) => b.costUsd - a.costUsd],
  duration: ["duration, longest first", (a, b) => b.durationMs - a.durationMs],
  tokens: ["output tokens, most first", (a, b) => b.outputTokens - a.outputTokens],
};

/** A run's cost as a cell: an unpriced run says so, never $0. */
export function runCost(run: Run): string {
  return run.costSource === "unpriced" ? "unpriced" : formatUsd(run.costUsd);
}

/** Tokens of a run: input / output (cache reads and writes are on the run's page). */
export function runTokens(run: Run): string {
  return `${formatCount(run.inputTokens)} / ${formatCount(run.outputTokens)}`;
}

export function Runs(props: { state: State; go: Go }) {
  const { state, go } = props;
  const key = JSON.stringify(["runs", state.range, state.since, state.until, state.repo, state.model, state.event, state.conclusion, state.session, state.cursor]);
  const { data, error, loading } = useLoad(key, () => {
    const window = currentWindow(state, Date.now());
    return getJson<RunsPage>("runs", {
      since: window.since, until: window.until, repo: state.repo, model: state.model, event: state.event, conclusion: state.conclusion,
      session: state.session, cursor: state.cursor, limit: "50",
    });
  });
  const sort = SORTS[state.sort] ?? SORTS[""]!;
  const runs = data === undefined ? [] : [...data.runs].sort(sort[1]);
  return html`<section aria-labelledby="runs-title" aria-busy=${loading ? "true" : "false"}>
    <h1 id="runs-title">Runs</h1>
    ${state.session ? html`<p class="note">Runs of session <code>${state.session}</code> · <${Link} href=${linkTo(state, { session: "" })} go=${go}>all runs<//></p>` : null}
    <${Failure} error=${error} />
    <div class="table-tools">
      <label>Order this page <select value=${state.sort} onChange=${(e: Event) => go(linkTo(state, { sort: (e.target as HTMLSelectElement).value }), { replace: true })}>
        ${Object.entries(SORTS).map(([value, [label]]) => html`<option value=${value}>${label}</option>`)}
      </select></label>
      <span class="note">times in ${state.tz}</span>
    </div>
    ${data === undefined && loading ? html`<${Loading} />` : null}
    ${data !== undefined
      ? html`<div class="scroll"><table class="data runs">
          <caption class="sr-only">Runs, ${sort[0]}</caption>
          <thead><tr>
            <th scope="col">Time</th><th scope="col">Repo</th><th scope="col">Event</th><th scope="col">Model</th><th scope="col">Conclusion</th>
            <th scope="col" class="num">Tokens in / out</th><th scope="col" class="num">Cost</th><th scope="col" class="num">Duration</th>
          </tr></thead>
          <tbody>
            ${runs.length === 0 ? html`<tr><td colspan="8" class="empty">No runs in this range.</td></tr>` : null}
            ${runs.map(
              (run) => html`<tr data-run=${run.id}>
                <td data-label="Time"><${Link} href=${linkTo(state, { view: "run", id: run.id })} go=${go}>${formatTime(run.createdAt, state.tz)}<//></td>
                <td data-label="Repo">${run.repo}</td><td data-label="Event">${run.eventType}</td><td data-label="Model">${run.model}</td>
                <td data-label="Conclusion"><span class=${`badge ${run.conclusion}`}>${run.conclusion}</span></td>
                <td data-label="Tokens in / out" class="num">${runTokens(run)}</td><td data-label="Cost" class="num">${runCost(run)}</td>
                <td data-label="Duration" class="num">${formatDuration(run.durationMs)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>
        <nav class="pages" aria-label="Pages">
          ${state.cursor ? html`<${Link} href=${linkTo(state, { cursor: "" })} go=${go}>⇤ Newest<//> <button type="button" onClick=${() => history.back()}>← Newer</button>` : null}
          ${data.nextCursor ? html`<${Link} href=${linkTo(state, { cursor: data.nextCursor })} go=${go}>Older →<//>` : html`<span class="note">No older runs.</span>`}
        </nav>`
      : null}
  </section>`;
}
