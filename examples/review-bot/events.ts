/**
 * The payload fields the bot reads, typed narrowly: webhook payloads are large and the bot
 * touches a handful of fields. Every field is checked at the edge (router.ts) before use.
 */
export interface PullRequestPayload {
  action: string;
  repository: { full_name: string };
  pull_request: { number: number; title: string; body: string | null; draft?: boolean; html_url: string };
}

export interface IssueCommentPayload {
  action: string;
  repository: { full_name: string };
  issue: { number: number; title: string; pull_request?: unknown };
  comment: { body: string; user: { login: string; type?: string } };
}

/** Who a job is for: the webhook's identity as Tally records it (see `tally/github`). */
export interface Delivery {
  deliveryId: string;
  eventType: string;
  repo: string;
  /** The pull request's number; null for a comment on a plain issue. */
  prNumber: number | null;
}
