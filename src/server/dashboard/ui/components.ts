/** The parts every view shares: navigation, range and filter controls, KPI tiles, messages. */
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { BROWSER_ZONE, FILTERS, linkTo, PRESETS, type Filter, type State, type View } from "./state.ts";

/** Changes the URL (a new history entry unless `replace`) and redraws. */
export type Go = (search: string, options?: { replace?: boolean }) => void;

/** An in-page link: a real href (open in a new tab works), history.pushState on a plain click. */
export function Link(props: { href: string; go: Go; children: unknown; class?: string; current?: boolean; label?: string }) {
  const click = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    props.go(props.href);
  };
  return html`<a href=${props.href} class=${props.class} onClick=${click} aria-current=${props.current ? "page" : undefined} aria-label=${props.label}>${props.children}</a>`;
}

const NAV: [View, string][] = [["overview", "Overview"], ["runs", "Runs"], ["tools", "Tools"], ["degradations", "Degradations & caches"]];

const ZONES = [...new Set([BROWSER_ZONE, "UTC", "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"])];

const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** The header: views, range, zone, filters. `applies` names the filters the current view honours. */
export function Controls(props: { state: State; go: Go; applies: readonly Filter[]; now: number }) {
  const { state, go } = props;
  const [custom, setCustom] = useState(state.range === "custom");
  const submitCustom = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const since = new Date(String(form.get("since")));
    const until = new Date(String(form.get("until")));
    if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) return;
    go(linkTo(state, { range: "custom", since: since.toISOString(), until: until.toISOString() }));
  };
  const submitFilters = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const patch: Partial<State> = {};
    for (const f of FILTERS) patch[f] = String(form.get(f) ?? "").trim();
    go(linkTo(state, patch));
  };
  const nowIso = new Date(props.now).toISOString();
  return html`<header class="top">
    <div class="brand"><a href="?" class="logo">Tally</a></div>
    <nav aria-label="Views"><ul>
      ${NAV.map(([view, label]) => html`<li><${Link} href=${linkTo(state, { view })} go=${go} current=${state.view === view || (view === "runs" && state.view === "run")}>${label}<//></li>`)}
    </ul></nav>
    <div class="controls">
      <div class="presets" role="group" aria-label="Range">
        ${Object.keys(PRESETS).map(
          (p) => html`<${Link} class="chip" href=${linkTo(state, { range: p as State["range"], since: "", until: "" })} go=${go} current=${state.range === p} label=${`last ${p}`}>${p}<//>`,
        )}
        <button type="button" class=${`chip ${state.range === "custom" ? "on" : ""}`} aria-expanded=${custom} onClick=${() => setCustom(!custom)}>Custom</button>
      </div>
      <label class="zone">Zone <select value=${state.tz} onChange=${(e: Event) => go(linkTo(state, { tz: (e.target as HTMLSelectElement).value }))}>
        ${[...new Set([state.tz, ...ZONES])].map((z) => html`<option value=${z}>${z}${z === BROWSER_ZONE ? " (this browser)" : ""}</option>`)}
      </select></label>
    </div>
    ${custom
      ? html`<form class="custom" onSubmit=${submitCustom} aria-label="Custom range">
          <label>From <input type="datetime-local" name="since" required value=${toLocalInput(state.since || new Date(props.now - 86_400_000).toISOString())} /></label>
          <label>To <input type="datetime-local" name="until" required value=${toLocalInput(state.until || nowIso)} /></label>
          <button type="submit">Apply</button>
        </form>`
      : null}
    <form class="filters" onSubmit=${submitFilters} aria-label="Filters">
      ${FILTERS.map(
        (f) => html`<label class=${props.applies.includes(f) ? "" : "inert"}>${f}
          <input name=${f} value=${state[f]} placeholder="*" autocomplete="off" spellcheck=${false}
            title=${props.applies.includes(f) ? `only these ${f}s (glob: * ? [..])` : `this view cannot filter by ${f}`} /></label>`,
      )}
      <button type="submit">Filter</button>
      ${FILTERS.some((f) => state[f] !== "")
        ? html`<${Link} class="clear" href=${linkTo(state, { repo: "", model: "", event: "", conclusion: "" })} go=${go}>Clear<//>`
        : null}
    </form>
    ${FILTERS.some((f) => state[f] !== "" && !props.applies.includes(f))
      ? html`<p class="note">This view cannot filter by ${FILTERS.filter((f) => state[f] !== "" && !props.applies.includes(f)).join(", ")}; the filter stays for the other views.</p>`
      : null}
  </header>`;
}

/** One number with its label and, when given, its change against the previous period. */
export function Kpi(props: { label: string; value: string; change?: string; name: string; hint?: string }) {
  return html`<div class="kpi" data-kpi=${props.name}>
    <dt>${props.label}</dt>
    <dd><span class="value">${props.value}</span>${props.change !== undefined ? html`<span class="change" title="against the previous period of the same length">${props.change}</span>` : null}</dd>
    ${props.hint ? html`<dd class="hint">${props.hint}</dd>` : null}
  </div>`;
}

/** An error from the API, said plainly. */
export function Failure(props: { error: Error | undefined }) {
  if (props.error === undefined) return null;
  const status = props.error instanceof ApiError && props.error.status > 0 ? ` (HTTP ${props.error.status})` : "";
  return html`<p class="error" role="alert">Could not load: ${props.error.message}${status}</p>`;
}

export function Loading() {
  return html`<p class="loading" aria-busy="true">Loading…</p>`;
}

/** Asks for the read token once; it goes to storage and headers, never to the URL. */
export function TokenGate(props: { onToken: (token: string, remember: boolean) => void }) {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const token = String(form.get("token") ?? "").trim();
    if (token !== "") props.onToken(token, form.get("remember") === "on");
  };
  return html`<main class="gate">
    <form onSubmit=${submit} aria-labelledby="gate-title">
      <h1 id="gate-title">This server needs its read token</h1>
      <p>It is kept in this browser (this tab, or this device if you tick the box) and sent as an Authorization header, never in a link.</p>
      <label>Read token <input type="password" name="token" autocomplete="current-password" required autofocus /></label>
      <label class="check"><input type="checkbox" name="remember" /> Remember on this device</label>
      <button type="submit">Open the dashboard</button>
    </form>
  </main>`;
}
