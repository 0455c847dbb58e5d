import type { GitHubApi, SearchItem } from "./api.ts";

/** Canned search results, so the bot runs with no token and no network. */
export function offlineGitHubApi(): GitHubApi {
  return {
    async searchIssues(query) {
      const repo = /repo:(\S+)/.exec(query)?.[1] ?? "octo-org/app";
      return CANNED.map((item) => ({ ...item, url: `https://github.com/${repo}/${item.url}` }));
    },
  };
}

const CANNED: SearchItem[] = [
  { title: "Rate limiter drops requests under load", url: "issues/31", number: 31, state: "closed" },
  { title: "Make the request timeout configurable", url: "pull/38", number: 38, state: "open" },
];
