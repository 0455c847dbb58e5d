import type { DeliveryContext } from "../../src/capture/github/index.ts";
import type { HandlerDeps } from "./deps.ts";
import type { Delivery, IssueCommentPayload, PullRequestPayload } from "./events.ts";
import { answerMention } from "./handlers/mention.ts";
import { reviewPullRequest } from "./handlers/review.ts";

/** A job to queue for a repository, or why the delivery is acknowledged and ignored. */
export type Route = { repo: string; job: () => Promise<void> } | { ignored: string };

const REVIEW_EVENTS = new Set(["pull_request.opened", "pull_request.synchronize", "pull_request.ready_for_review"]);

/** Decides what a verified delivery asks for. Payload fields are checked here, once. */
export function route(deps: HandlerDeps, context: DeliveryContext, payload: unknown, botLogin: string): Route {
  const { deliveryId, eventType, repo } = context;
  if (deliveryId === undefined || eventType === undefined || repo === undefined) return { ignored: "not a repository event" };
  const delivery: Delivery = { deliveryId, eventType, repo, prNumber: context.prNumber ?? null };

  if (REVIEW_EVENTS.has(eventType) && isPullRequest(payload)) {
    // Drafts are reviewed when they become ready (ready_for_review), not on every push before.
    if (payload.pull_request.draft === true) return { ignored: "draft pull request" };
    return { repo, job: () => reviewPullRequest(deps, delivery, payload) };
  }
  if (eventType === "issue_comment.created" && isComment(payload)) {
    const author = payload.comment.user;
    // The bot's own replies mention it too; answering them would loop.
    if (author.type === "Bot" || author.login.toLowerCase() === botLogin.toLowerCase()) return { ignored: "comment by a bot" };
    if (!mentions(payload.comment.body, botLogin)) return { ignored: "no mention" };
    return { repo, job: () => answerMention(deps, delivery, payload) };
  }
  return { ignored: `event ${eventType} is not handled` };
}

/** `@login` as a whole word, any case. */
export function mentions(body: string, login: string): boolean {
  const escaped = login.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w-])@${escaped}(?![\\w-])`, "i").test(body);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isPullRequest(payload: unknown): payload is PullRequestPayload {
  if (!isObject(payload) || !isObject(payload.pull_request)) return false;
  const pr = payload.pull_request;
  return Number.isSafeInteger(pr.number) && typeof pr.title === "string" && typeof pr.html_url === "string";
}

function isComment(payload: unknown): payload is IssueCommentPayload {
  if (!isObject(payload) || !isObject(payload.issue) || !isObject(payload.comment)) return false;
  const { issue, comment } = payload;
  return Number.isSafeInteger(issue.number) && typeof issue.title === "string" && typeof comment.body === "string" && isObject(comment.user) && typeof comment.user.login === "string";
}
