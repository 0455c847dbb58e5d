/** Webhook payloads trimmed to what the bot and Tally read; for send-test-webhook.ts and the tests. */

export function pullRequestOpened(repo = "octo-org/app", number = 42) {
  return {
    action: "opened",
    number,
    repository: { full_name: repo },
    pull_request: {
      number,
      title: "Retry failed uploads with a configurable rate limit",
      body: "Uploads that fail with 5xx are retried; the limit comes from config.",
      draft: false,
      html_url: `https://github.com/${repo}/pull/${number}`,
    },
    sender: { login: "octocat", type: "User" },
  };
}

export function mentionComment(repo = "octo-org/app", number = 42, body = "@tally-bot why is the retry loop unbounded?") {
  return {
    action: "created",
    repository: { full_name: repo },
    issue: { number, title: "Retry failed uploads", pull_request: { url: `https://api.github.com/repos/${repo}/pulls/${number}` } },
    comment: { body, user: { login: "octocat", type: "User" } },
    sender: { login: "octocat", type: "User" },
  };
}
