import type { SearchItem } from "./github/api.ts";
import type { IssueCommentPayload, PullRequestPayload } from "./events.ts";
import { MENTION_PREFIX } from "./agent/replay-session.ts";

/** The review prompt: the pull request, plus related issues and pull requests when search found any. */
export function reviewPrompt(repo: string, pr: PullRequestPayload["pull_request"], related: readonly SearchItem[]): string {
  const lines = [
    `Review pull request #${pr.number} in ${repo}: "${pr.title}" (${pr.html_url}).`,
    pr.body ? `Its description:\n${pr.body}` : "It has no description.",
    "Point out bugs and risky changes with file and line; be brief.",
  ];
  if (related.length > 0) {
    lines.push("Related issues and pull requests:", ...related.map((item) => `- #${item.number} (${item.state}) ${item.title}: ${item.url}`));
  }
  return lines.join("\n\n");
}

/** The search queries that enrich a review. */
export function searchQueries(repo: string, pr: PullRequestPayload["pull_request"]): string[] {
  const words = pr.title.replace(/[^\w\s-]/g, " ").split(/\s+/).filter((word) => word.length > 3).slice(0, 5).join(" ");
  return [`repo:${repo} is:issue ${words}`, `repo:${repo} is:pr is:merged ${words}`];
}

/** The mention prompt: answer the comment in the context of its issue or pull request. */
export function mentionPrompt(repo: string, payload: IssueCommentPayload): string {
  return `${MENTION_PREFIX} by @${payload.comment.user.login} on ${repo}#${payload.issue.number} ("${payload.issue.title}"). Their comment:\n\n${payload.comment.body}\n\nAnswer briefly.`;
}
