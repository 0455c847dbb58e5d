/** One GitHub search hit, trimmed to what a review prompt needs. */
export interface SearchItem {
  title: string;
  url: string;
  number: number;
  state: "open" | "closed";
}

/**
 * The slice of the GitHub REST API the bot reads. A failed call throws an error carrying the
 * HTTP `status` and `response.headers`, the shape of Octokit's `RequestError`, so an Octokit-backed
 * implementation can let its errors through unchanged.
 */
export interface GitHubApi {
  /** `GET /search/issues?q=…` (issues and pull requests). */
  searchIssues(query: string): Promise<SearchItem[]>;
}

/** A failed GitHub call: status and response headers, as Octokit's `RequestError` has them. */
export class GitHubApiError extends Error {
  readonly response: { headers: Record<string, string> };

  constructor(
    readonly status: number,
    headers: Record<string, string> = {},
    message = `GitHub API answered ${status}`,
  ) {
    super(message);
    this.name = "GitHubApiError";
    this.response = { headers };
  }
}

/**
 * GitHub's rate-limit answers: 429, or 403 with `x-ratelimit-remaining: 0` (a primary limit)
 * or `retry-after` (a secondary limit). Any other 403 is a permission problem, not worth a retry.
 */
export function isRateLimited(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { status, response } = error as { status?: unknown; response?: { headers?: Record<string, string | undefined> } };
  if (status === 429) return true;
  if (status !== 403) return false;
  const headers = response?.headers ?? {};
  return headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined;
}
