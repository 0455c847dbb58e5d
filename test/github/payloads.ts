/**
 * Webhook deliveries as GitHub sends them (headers and JSON bodies), trimmed to the fields
 * around the ones Tally reads. Ids and numbers follow GitHub's docs examples.
 */

const repository = {
  id: 186853002,
  node_id: "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
  name: "app",
  full_name: "octo-org/app",
  private: true,
  owner: { login: "octo-org", id: 6811672, type: "Organization" },
  html_url: "https://github.com/octo-org/app",
  default_branch: "main",
};

const sender = { login: "octocat", id: 583231, type: "User" };
const installation = { id: 2311213, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==" };

function pullRequest(draft: boolean) {
  return {
    url: "https://api.github.com/repos/octo-org/app/pulls/42",
    id: 1785290771,
    number: 42,
    state: "open",
    draft,
    title: "Retry GitHub search with backoff",
    user: sender,
    head: { ref: "search-backoff", sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e" },
    base: { ref: "main", sha: "7638417db6d59f3c431d3e1f261cc637155684cd" },
  };
}

/** `X-GitHub-*` headers as Node's IncomingMessage gives them (lower case). */
export function headers(event: string, delivery: string): Record<string, string> {
  return {
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-github-hook-id": "292430182",
    "x-github-hook-installation-target-type": "integration",
    "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/8f4b2b3",
  };
}

export const pullRequestOpened = { action: "opened", number: 42, pull_request: pullRequest(false), repository, sender, installation };
export const pullRequestSynchronize = {
  action: "synchronize",
  number: 42,
  before: "7638417db6d59f3c431d3e1f261cc637155684cd",
  after: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
  pull_request: pullRequest(false),
  repository,
  sender,
  installation,
};
export const pullRequestReadyForReview = { action: "ready_for_review", number: 42, pull_request: pullRequest(false), repository, sender, installation };

const comment = {
  id: 1893456721,
  body: "@review-bot can you look at the retry loop?",
  user: sender,
  author_association: "MEMBER",
  created_at: "2026-11-20T10:12:44Z",
};

/** A comment on a pull request's conversation: the issue carries a `pull_request` link. */
export const issueCommentOnPullRequest = {
  action: "created",
  issue: {
    number: 42,
    title: "Retry GitHub search with backoff",
    state: "open",
    pull_request: {
      url: "https://api.github.com/repos/octo-org/app/pulls/42",
      html_url: "https://github.com/octo-org/app/pull/42",
      diff_url: "https://github.com/octo-org/app/pull/42.diff",
      patch_url: "https://github.com/octo-org/app/pull/42.patch",
      merged_at: null,
    },
  },
  comment,
  repository,
  sender,
  installation,
};

/** A comment on a plain issue: no `pull_request` link, so no PR number. */
export const issueCommentOnIssue = {
  action: "created",
  issue: { number: 77, title: "Search results are truncated", state: "open" },
  comment: { ...comment, id: 1893456999 },
  repository,
  sender,
  installation,
};

/** A push has no `action`. */
export const push = {
  ref: "refs/heads/main",
  before: "7638417db6d59f3c431d3e1f261cc637155684cd",
  after: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
  created: false,
  deleted: false,
  forced: false,
  commits: [{ id: "6dcb09b5b57875f334f61aebed695e2e4193db5e", message: "Retry search", author: { name: "Mona", email: "mona@example.com" } }],
  pusher: { name: "octocat", email: "octocat@example.com" },
  repository,
  sender,
  installation,
};

/** Sent when a webhook is created; an app's ping has no repository. */
export const ping = {
  zen: "Design for failure.",
  hook_id: 292430182,
  hook: { type: "App", id: 292430182, active: true, events: ["issue_comment", "pull_request"], app_id: 98765 },
  sender,
};
