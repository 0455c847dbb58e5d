import { randomUUID } from "node:crypto";
import type { HandlerDeps } from "../deps.ts";
import type { Delivery, PullRequestPayload } from "../events.ts";
import { searchWithBackoff, type Enrichment } from "../github/search-with-backoff.ts";
import { reviewPrompt, searchQueries } from "../prompts.ts";
import { outcomeBody } from "./outcome-body.ts";

/**
 * Reviews a pull request: enrich with GitHub search (degrading under a rate limit), run the
 * agent, publish. The rate-limit event is recorded once, after enrichment is final, with the
 * webhook's own identity; the agent run is recorded by the executor whatever its outcome.
 */
export async function reviewPullRequest(deps: HandlerDeps, delivery: Delivery, payload: PullRequestPayload): Promise<void> {
  const pr = payload.pull_request;
  // Chosen here so the rate-limit event can point at the run it degraded.
  const context = { ...delivery, model: deps.model, executionId: randomUUID() };

  const enrichment = await searchWithBackoff(deps.github, searchQueries(delivery.repo, pr), deps.logger, deps.backoff);
  if (enrichment.rateLimited) recordDegradation(deps, delivery, enrichment, context.executionId);

  const outcome = await deps.executor.execute(reviewPrompt(delivery.repo, pr, enrichment.items), context);
  deps.logger.info({ deliveryId: delivery.deliveryId, repo: delivery.repo, pr: pr.number, conclusion: outcome.conclusion }, "review-bot: review finished");
  await deps.publisher.publish({
    kind: "review",
    repo: delivery.repo,
    number: pr.number,
    body: outcomeBody(outcome, enrichment.degradation),
    deliveryId: delivery.deliveryId,
  });
}

function recordDegradation(deps: HandlerDeps, delivery: Delivery, enrichment: Enrichment, executionId: string): void {
  deps.telemetry.recordRateLimitEvent({
    deliveryId: delivery.deliveryId,
    eventType: delivery.eventType,
    repo: delivery.repo,
    prNumber: delivery.prNumber,
    executionId,
    resource: "search",
    retryAttempts: enrichment.retryAttempts,
    skippedQueries: enrichment.skippedQueries,
    degradation: enrichment.degradation,
  });
}
