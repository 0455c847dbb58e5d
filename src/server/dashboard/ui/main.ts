/**
 * The dashboard: one page whose URL names everything shown. Views read the read API only; the
 * poll bumps a counter every `refresh` seconds and each view asks again.
 */
import { html } from "htm/preact";
import { render } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { saveToken } from "./api.ts";
import { Controls, TokenGate, type Go } from "./components.ts";
import { Live } from "./hooks.ts";
import { readState, type Filter, type View } from "./state.ts";
import { Degradations } from "./views/degradations.ts";
import { Overview } from "./views/overview.ts";
import { RunPage } from "./views/run.ts";
import { Runs } from "./views/runs.ts";
import { Tools } from "./views/tools.ts";

const APPLIES: Record<View, readonly Filter[]> = {
  overview: ["repo", "model", "event", "conclusion"],
  runs: ["repo", "model", "event", "conclusion"],
  run: ["repo", "model", "event", "conclusion"],
  tools: [],
  degradations: ["repo"],
};

const TITLES: Record<View, string> = { overview: "Overview", runs: "Runs", run: "Run", tools: "Tools", degradations: "Degradations and caches" };

function App() {
  const [search, setSearch] = useState(location.search);
  const [tick, setTick] = useState(0);
  const [needToken, setNeedToken] = useState(false);
  const state = useMemo(() => readState(search), [search]);

  const go: Go = useCallback((next, options = {}) => {
    if (next === location.search || (next === "?" && location.search === "")) return;
    if (options.replace) history.replaceState(null, "", next);
    else history.pushState(null, "", next);
    setSearch(location.search);
    if (!options.replace) window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    const pop = () => setSearch(location.search);
    addEventListener("popstate", pop);
    return () => removeEventListener("popstate", pop);
  }, []);

  // Live refresh: not while the tab is hidden, not while the token is asked for.
  useEffect(() => {
    if (state.refresh === 0 || needToken) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== "hidden") setTick((t) => t + 1);
    }, state.refresh * 1000);
    return () => clearInterval(timer);
  }, [state.refresh, needToken]);

  useEffect(() => {
    document.title = `${TITLES[state.view]} · Tally`;
  }, [state.view]);

  const live = useMemo(() => ({ tick, askToken: () => setNeedToken(true) }), [tick]);
  if (needToken) {
    return html`<${TokenGate} onToken=${(token: string, remember: boolean) => {
      saveToken(token, remember);
      setNeedToken(false);
      setTick((t) => t + 1);
    }} />`;
  }
  const View = { overview: Overview, runs: Runs, run: RunPage, tools: Tools, degradations: Degradations }[state.view];
  return html`<${Live.Provider} value=${live}>
    <a class="skip" href="#main">Skip to content</a>
    <${Controls} state=${state} go=${go} applies=${APPLIES[state.view]} now=${Date.now()} />
    <main id="main" tabindex="-1" data-url=${search}>
      <${View} state=${state} go=${go} />
    </main>
    <footer><span>${state.refresh > 0 ? `Refreshes every ${state.refresh} s` : "Live refresh off"}</span> · numbers from <a href="api/v1/openapi.json">the read API</a></footer>
  <//>`;
}

const root = document.getElementById("app")!;
root.textContent = "";
render(html`<${App} />`, root);
