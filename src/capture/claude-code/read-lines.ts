import type { FileHandle } from "node:fs/promises";

/**
 * Receives one complete line: bytes `[start, end)` of `buffer`, without `\n` (nor a `\r` before
 * it). A promise returned (a batch written to an asynchronous store) is awaited before the next line.
 */
export type LineHandler = (buffer: Buffer, start: number, end: number, hasNeedle: boolean, endOffset: number) => void | Promise<void>;

/** Options of {@link readCompleteLines}. */
export interface ReadLinesOptions {
  /** First byte to read (a line start). */
  start: number;
  /** Read no further than this (the file size when the import began). */
  end: number;
  /** Tells each line whether it contains these bytes, found with one scan per chunk. */
  needle: Buffer;
  /** Called for every complete line, in order. */
  onLine: LineHandler;
  /** Called instead of `onLine` for a line longer than `maxLineBytes`; it is skipped. */
  onOversizedLine: (endOffset: number) => void;
  /** Called after each chunk, with the number of bytes read so far. */
  onProgress?: (bytesRead: number) => void;
  /** @default 1 MiB */
  chunkBytes?: number;
  /** @default 256 MiB */
  maxLineBytes?: number;
}

/** How far {@link readCompleteLines} got. */
export interface ReadLinesResult {
  /** Byte offset just past the last complete line: where the next read starts. */
  offset: number;
  /** Bytes read from the file (a trailing partial line is read but not consumed). */
  bytesRead: number;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Streams `[start, end)` of a file in chunks and hands over complete lines only: a trailing
 * line without its newline (Claude Code still writing it) is left for the next import.
 * Memory stays at one chunk, grown only as far as the longest line.
 */
export async function readCompleteLines(handle: FileHandle, options: ReadLinesOptions): Promise<ReadLinesResult> {
  const { end, needle, onLine } = options;
  const maxLineBytes = options.maxLineBytes ?? 256 * 1024 * 1024;
  let buffer = Buffer.allocUnsafe(Math.min(options.chunkBytes ?? 1024 * 1024, Math.max(end - options.start, 1)));
  /** File offset of buffer[0]. */
  let base = options.start;
  /** Valid bytes in buffer. */
  let filled = 0;
  let position = options.start;
  let skippingOversized = false;
  /** File offset where the line being skipped began: if it never ends, the next import retries it. */
  let oversizedStart = 0;

  while (position < end) {
    if (filled === buffer.length) {
      // One line fills the whole buffer: grow it, or give the line up as too long.
      if (buffer.length < maxLineBytes) {
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxLineBytes));
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      } else {
        skippingOversized = true;
        oversizedStart = base;
        base += filled;
        filled = 0;
      }
    }
    const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, end - position), position);
    if (bytesRead === 0) break; // the file shrank while being read: stop at what is there
    const scanFrom = filled;
    position += bytesRead;
    filled += bytesRead;

    let lineStart = 0;
    if (skippingOversized) {
      const newline = buffer.indexOf(NEWLINE, scanFrom);
      if (newline === -1 || newline >= filled) {
        base += filled;
        filled = 0;
        options.onProgress?.(position - options.start);
        continue;
      }
      skippingOversized = false;
      lineStart = newline + 1;
      options.onOversizedLine(base + lineStart);
    }

    const view = buffer.subarray(0, filled);
    let nextNeedle = view.indexOf(needle, lineStart);
    let newline = view.indexOf(NEWLINE, Math.max(lineStart, scanFrom));
    while (newline !== -1) {
      if (nextNeedle !== -1 && nextNeedle < lineStart) nextNeedle = view.indexOf(needle, lineStart);
      const hasNeedle = nextNeedle !== -1 && nextNeedle < newline;
      const lineEnd = newline > lineStart && view[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      const pending = onLine(view, lineStart, lineEnd, hasNeedle, base + newline + 1);
      if (pending !== undefined) await pending;
      lineStart = newline + 1;
      newline = view.indexOf(NEWLINE, lineStart);
    }
    // Keep the incomplete last line at the front of the buffer.
    if (lineStart > 0) {
      buffer.copy(buffer, 0, lineStart, filled);
      filled -= lineStart;
      base += lineStart;
    }
    options.onProgress?.(position - options.start);
  }
  return { offset: skippingOversized ? oversizedStart : base, bytesRead: position - options.start };
}
