import type { HandlerDeps } from "../deps.ts";
import type { Delivery, IssueCommentPayload } from "../events.ts";
import { mentionPrompt } from "../prompts.ts";
import { outcomeBody } from "./outcome-body.ts";

/** Answers a comment that mentions the bot; the run is recorded under `issue_comment.created`. */
export async function answerMention(deps: HandlerDeps, delivery: Delivery, payload: IssueCommentPayload): Promise<void> {
  const outcome = await deps.executor.execute(mentionPrompt(delivery.repo, payload), { ...delivery, model: deps.model });
  deps.logger.info({ deliveryId: delivery.deliveryId, repo: delivery.repo, issue: payload.issue.number, conclusion: outcome.conclusion }, "review-bot: mention answered");
  await deps.publisher.publish({
    kind: "comment",
    repo: delivery.repo,
    number: payload.issue.number,
    body: outcomeBody(outcome),
    deliveryId: delivery.deliveryId,
  });
}
