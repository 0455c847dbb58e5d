/**
 * Everything the page shows is named by its URL: the view, the range, the zone, the filters, the
 * split, the page of runs. Links can be shared; back and forward replay them. Values that equal
 * their default are left out, so URLs stay short.
 */
export const VIEWS = ["overview", "runs", "run", "tools", "degradations"] as const;
export type View = (typeof VIEWS)[number];

export const PRESETS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000, "90d": 90 * 86_400_000 } as const;
export type Preset = keyof typeof PRESETS;

export const SPLITS = ["model", "repo", "event", "conclusion"] as const;
export type Split = (typeof SPLITS)[number];

/** Filters kept across views; each is one Tally glob. */
export const FILTERS = ["repo", "model", "event", "conclusion"] as const;
export type Filter = (typeof FILTERS)[number];

export interface State {
  view: View;
  /** A preset, or "custom" with `since` and `until` as ISO instants. */
  range: Preset | "custom";
  since: string;
  until: string;
  /** IANA zone for buckets and times. @default the browser's */
  tz: string;
  repo: string;
  model: string;
  event: string;
  conclusion: string;
  split: Split;
  /** A run's id (view=run). */
  id: string;
  /** A page of runs (the API's nextCursor). */
  cursor: string;
  /** How the current page of runs is ordered. */
  sort: string;
  /** A tool (and its server) whose failing calls are listed. */
  tool: string;
  server: string;
  /** Runs of one session. */
  session: string;
  /** Seconds between refreshes; 0 stops them. @default 10 */
  refresh: number;
}

export const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const DEFAULTS: State = {
  view: "overview", range: "24h", since: "", until: "", tz: BROWSER_ZONE, repo: "", model: "", event: "", conclusion: "",
  split: "model", id: "", cursor: "", sort: "", tool: "", server: "", session: "", refresh: 10,
};

/** The state a query string names; unknown or broken values fall back to defaults. */
export function readState(search: string): State {
  const q = new URLSearchParams(search);
  const state: State = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof State)[]) {
    const value = q.get(key);
    if (value === null) continue;
    if (key === "refresh") state.refresh = /^\d{1,5}$/.test(value) ? Number(value) : DEFAULTS.refresh;
    else (state as unknown as Record<string, string>)[key] = value;
  }
  if (!(VIEWS as readonly string[]).includes(state.view)) state.view = "overview";
  if (!(SPLITS as readonly string[]).includes(state.split)) state.split = "model";
  const customOk = state.range === "custom" && !Number.isNaN(Date.parse(state.since)) && !Number.isNaN(Date.parse(state.until)) && Date.parse(state.since) < Date.parse(state.until);
  if (!(state.range in PRESETS) && !customOk) state.range = "24h";
  if (state.range !== "custom") state.since = state.until = "";
  try {
    new Intl.DateTimeFormat("en", { timeZone: state.tz });
  } catch {
    state.tz = BROWSER_ZONE;
  }
  return state;
}

/** The query string of a state, defaults left out, keys in one order. */
export function stateSearch(state: State): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS) as (keyof State)[]) {
    const value = state[key];
    if (value !== DEFAULTS[key] && value !== "") q.set(key, String(value));
  }
  const text = q.toString();
  return text === "" ? "?" : `?${text}`;
}

/** A link to the current state changed by `patch`. Leaving a view drops what belonged to it. */
export function linkTo(state: State, patch: Partial<State>): string {
  const next = { ...state, ...patch };
  if (patch.view !== undefined && patch.view !== state.view) {
    if (patch.cursor === undefined) next.cursor = "";
    if (patch.sort === undefined) next.sort = "";
    if (patch.view !== "run" && patch.id === undefined) next.id = "";
    if (patch.view !== "tools" && patch.tool === undefined) next.tool = next.server = "";
  }
  if (patch.cursor === undefined && ["range", "since", "until", ...FILTERS, "session"].some((k) => k in patch)) next.cursor = "";
  return stateSearch(next);
}

/** A window of time as the API takes it: ISO instants, [since, until). */
export interface Window {
  since: string;
  until: string;
  ms: number;
}

/** The chosen window: a preset ends now (to the second), a custom one is as named. */
export function currentWindow(state: State, now: number): Window {
  if (state.range === "custom") {
    const since = Date.parse(state.since);
    const until = Date.parse(state.until);
    return { since: new Date(since).toISOString(), until: new Date(until).toISOString(), ms: until - since };
  }
  const end = Math.floor(now / 1000) * 1000;
  const ms = PRESETS[state.range];
  return { since: new Date(end - ms).toISOString(), until: new Date(end).toISOString(), ms };
}

/** The period of the same length just before `window`. */
export function previousWindow(window: Window): Window {
  const since = Date.parse(window.since);
  return { since: new Date(since - window.ms).toISOString(), until: window.since, ms: window.ms };
}

/** Hour buckets up to two days, days beyond. */
export function bucketOf(window: Window): "hour" | "day" {
  return window.ms <= 2 * 86_400_000 ? "hour" : "day";
}
