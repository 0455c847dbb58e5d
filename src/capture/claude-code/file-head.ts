import type { FileHandle } from "node:fs/promises";
import { hexDigest } from "./hex-digest.ts";

/** How many leading bytes identify a file: if they change, the file was rewritten, not appended to. */
export const HEAD_HASH_BYTES = 4096;

/** How much of a file's start is read for its first timestamp and cwd. */
const HEAD_SCAN_BYTES = 64 * 1024;

/** What the start of a transcript says about it. */
export interface FileHead {
  /** Epoch ms of the first line's `timestamp` in the head; orders files as ccusage does. */
  firstTimestamp: number | null;
  /** The first `cwd` in the head, to decode the project folder. */
  firstCwd: string | null;
  /** The file's first `min(4096, size)` bytes, for {@link headHash}. */
  start: Buffer;
}

/** Reads `length` bytes at `position`, fewer only at the end of the file. */
export async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The hash that tells whether a file still starts as it did: SHA-1 of its first
 * `min(4096, upTo)` bytes (`start` holds at least those), where `upTo` is how far it had been
 * read. Hashing no further than what was read keeps a small file's hash stable while it grows.
 */
export function headHash(start: Uint8Array, upTo: number): string {
  return hexDigest("sha1", start.subarray(0, Math.min(HEAD_HASH_BYTES, upTo, start.length)));
}

/**
 * Scans the complete lines of the first 64 KiB for the first `timestamp` and `cwd`
 * (top-level fields only: each line is parsed, so text inside a message cannot fool it).
 */
export async function readFileHead(handle: FileHandle, size: number): Promise<FileHead> {
  const head = await readAt(handle, Math.min(HEAD_SCAN_BYTES, size), 0);
  let firstTimestamp: number | null = null;
  let firstCwd: string | null = null;
  let start = 0;
  while (start < head.length && (firstTimestamp === null || firstCwd === null)) {
    const end = head.indexOf(10, start);
    if (end === -1) break;
    let entry: unknown;
    try {
      entry = JSON.parse(head.toString("utf8", start, end));
    } catch {
      entry = undefined;
    }
    start = end + 1;
    if (typeof entry !== "object" || entry === null) continue;
    const { timestamp, cwd } = entry as { timestamp?: unknown; cwd?: unknown };
    if (firstTimestamp === null && typeof timestamp === "string") {
      const ms = Date.parse(timestamp);
      if (Number.isFinite(ms)) firstTimestamp = ms;
    }
    if (firstCwd === null && typeof cwd === "string" && cwd.length > 0) firstCwd = cwd;
  }
  // A copy: the 64 KiB read should not stay alive for each file waiting to be read.
  return { firstTimestamp, firstCwd, start: Buffer.from(head.subarray(0, HEAD_HASH_BYTES)) };
}
