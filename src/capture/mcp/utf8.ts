/**
 * UTF-8 sizes of strings, without `node:buffer`, so the capture also runs where there is no
 * Buffer (Workers). Where Buffer exists its native byteLength is used: it is faster.
 */

type ByteLength = (text: string) => number;

const nativeByteLength: ByteLength | undefined = (() => {
  const buffer = (globalThis as { Buffer?: { byteLength?: (text: string, encoding: string) => number } }).Buffer;
  const byteLength = buffer?.byteLength;
  return typeof byteLength === "function" ? (text) => byteLength.call(buffer, text, "utf8") : undefined;
})();

/** Bytes of one UTF-16 code unit at `i`, counting a surrogate pair as 4 on its first half. */
function unitBytes(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 4;
  } else if (code >= 0xdc00 && code <= 0xdfff) {
    const previous = text.charCodeAt(i - 1);
    // The second half of a pair was counted with the first.
    if (i > 0 && previous >= 0xd800 && previous <= 0xdbff) return 0;
  }
  // Other BMP characters, and a lone surrogate (encoded as U+FFFD), take 3.
  return 3;
}

function portableByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += unitBytes(text, i);
  return bytes;
}

/** UTF-8 length of `text` in bytes. */
export const utf8Length: ByteLength = nativeByteLength ?? portableByteLength;

/** The portable implementation, exported for tests. */
export const utf8LengthPortable: ByteLength = portableByteLength;

const ELLIPSIS = "…";
const ELLIPSIS_BYTES = 3;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, never inside a character; a cut text ends
 * with "…" (counted in the budget).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A string of n UTF-16 units is at most 3n bytes: short strings need no measuring.
  if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return text;
  const budget = maxBytes - ELLIPSIS_BYTES;
  if (budget < 0) return "";
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const size = unitBytes(text, end);
    const width = size === 4 ? 2 : 1;
    if (bytes + size > budget) break;
    bytes += size;
    end += width;
  }
  return text.slice(0, end) + ELLIPSIS;
}
