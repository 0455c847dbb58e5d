import type { AgentOutcome } from "../agent/executor.ts";
import type { Enrichment } from "../github/search-with-backoff.ts";

/** The text to post: the agent's answer, or why there is none; notes a degraded enrichment. */
export function outcomeBody(outcome: AgentOutcome, degradation: Enrichment["degradation"] = "none"): string {
  const body = outcome.conclusion === "success" ? outcome.text : `I could not finish this (${outcome.conclusion}): ${outcome.text}`;
  if (degradation === "none") return body;
  return `${body}\n\n_GitHub search was rate-limited; related issues are ${degradation === "skipped" ? "missing" : "incomplete"}._`;
}
