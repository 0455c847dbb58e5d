/** Longest header value kept; GitHub's event names and delivery GUIDs are far shorter. */
export const MAX_HEADER_LENGTH = 256;

/** Headers as a plain object (any case; Node's `IncomingHttpHeaders` too) or a Web `Headers`. */
export type HeadersInput = Headers | Record<string, string | string[] | undefined | null> | null | undefined;

function clean(value: unknown): string | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_HEADER_LENGTH ? trimmed : undefined;
}

/**
 * One header, matched case-insensitively, or undefined when missing, not a string, empty or
 * longer than {@link MAX_HEADER_LENGTH}. Never throws, whatever `headers` is.
 */
export function readHeader(headers: unknown, name: string): string | undefined {
  try {
    if (typeof headers !== "object" || headers === null) return undefined;
    // Web Headers (from any realm) match names case-insensitively; a Map gets Node's lower case.
    const get = (headers as { get?: unknown }).get;
    if (typeof get === "function") return clean(get.call(headers, name.toLowerCase()));
    const record = headers as Record<string, unknown>;
    if (Object.hasOwn(record, name)) return clean(record[name]);
    const wanted = name.toLowerCase();
    for (const key of Object.keys(record)) {
      if (key.length === wanted.length && key.toLowerCase() === wanted) return clean(record[key]);
    }
    return undefined;
  } catch {
    return undefined;
  }
}
