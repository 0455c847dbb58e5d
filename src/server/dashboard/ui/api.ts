/**
 * The read API from the browser: same-origin relative URLs, the read token (when the server
 * has one) as an Authorization header, never in a URL, never logged.
 */
const TOKEN_KEY = "tally.readToken";

/** The API answered 401: the page asks for the read token. */
export class TokenNeeded extends Error {
  override readonly name = "TokenNeeded";
}

/** The API refused the question (a problem document's detail) or could not be reached. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps the token for this tab, or on this device when `remember`. */
export function saveToken(token: string, remember: boolean): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (remember) localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage refused (private mode): the token lives until the tab closes
  }
  memoryToken = token;
}

/** Forgets a token the server refused. */
export function forgetToken(): void {
  memoryToken = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
}

let memoryToken: string | null = storedToken();

export type Query = Record<string, string | readonly string[] | undefined>;

/** GETs `api/v1/<path>` with `query` (empty values left out); throws TokenNeeded or ApiError. */
export async function getJson<T>(path: string, query: Query = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of typeof value === "string" ? [value] : (value ?? [])) if (v !== "") params.append(key, v);
  }
  const url = `api/v1/${path}${params.size > 0 ? `?${params}` : ""}`;
  const headers: Record<string, string> = { accept: "application/json" };
  if (memoryToken !== null) headers.authorization = `Bearer ${memoryToken}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, cache: "no-store" });
  } catch {
    throw new ApiError("the server cannot be reached", 0);
  }
  if (response.status === 401) {
    forgetToken();
    throw new TokenNeeded("this server needs its read token");
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string; hint?: string } } | null;
    const message = body?.error?.message ?? `the API answered ${response.status}`;
    throw new ApiError(body?.error?.hint ? `${message} (${body.error.hint})` : message, response.status);
  }
  return (await response.json()) as T;
}
