/** Whether a `--db` value, `TALLY_DB` or a store option names a PostgreSQL database rather than a file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL as it may be shown in messages and logs: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}

/**
 * libpq's `sslmode` values. postgres.js reads any other value as "verify the certificate"
 * (`sslmode=bogus` fails as a TLS error far from the typo), so Tally refuses it up front.
 */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

/** Why a parsed URL's query cannot be used, or null. */
export function urlQueryProblem(url: URL): string | null {
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode !== null && !(SSL_MODES as readonly string[]).includes(sslmode)) {
    return `sslmode must be one of ${SSL_MODES.join(", ")}, got ${JSON.stringify(sslmode.slice(0, 40))}`;
  }
  // postgres.js reads any other value as "prepare": a typo would leave prepared statements on.
  const prepare = url.searchParams.get("prepare");
  if (prepare !== null && prepare !== "true" && prepare !== "false") return `prepare must be true or false, got ${JSON.stringify(prepare.slice(0, 40))}`;
  return null;
}
