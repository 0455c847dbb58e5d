import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { readCompleteLines } from "../../src/capture/claude-code/read-lines.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";

afterEach(removeTempDirs);

interface Seen {
  text: string;
  hasNeedle: boolean;
  endOffset: number;
}

async function read(content: string | Buffer, options: { start?: number; end?: number; chunkBytes?: number; maxLineBytes?: number } = {}) {
  const path = join(tempDir(), "t.jsonl");
  writeFileSync(path, content);
  const size = Buffer.byteLength(content);
  const handle = await open(path, "r");
  const lines: Seen[] = [];
  const oversized: number[] = [];
  try {
    const result = await readCompleteLines(handle, {
      start: options.start ?? 0,
      end: options.end ?? size,
      needle: Buffer.from('"usage"'),
      chunkBytes: options.chunkBytes,
      maxLineBytes: options.maxLineBytes,
      onLine: (buffer, start, end, hasNeedle, endOffset) => void lines.push({ text: buffer.toString("utf8", start, end), hasNeedle, endOffset }),
      onOversizedLine: (endOffset) => oversized.push(endOffset),
    });
    return { ...result, lines, oversized };
  } finally {
    await handle.close();
  }
}

describe("readCompleteLines", () => {
  const content = '{"a":1}\n{"usage":{}}\r\n\n{"b":"ü"}\n{"usage"';

  test.each([1, 2, 3, 7, 64, 1 << 20])("hands over complete lines only, whatever the chunk size (%i bytes)", async (chunkBytes) => {
    const result = await read(content, { chunkBytes });
    expect(result.lines).toEqual([
      { text: '{"a":1}', hasNeedle: false, endOffset: 8 },
      { text: '{"usage":{}}', hasNeedle: true, endOffset: 22 },
      { text: "", hasNeedle: false, endOffset: 23 },
      { text: '{"b":"ü"}', hasNeedle: false, endOffset: 34 },
    ]);
    // The last line has no newline yet: read, but not consumed.
    expect(result.offset).toBe(34);
    expect(result.bytesRead).toBe(Buffer.byteLength(content));
  });

  test("starts at a saved offset and stops at the given end", async () => {
    const result = await read(content, { start: 8, end: 23, chunkBytes: 4 });
    expect(result.lines.map((l) => l.text)).toEqual(['{"usage":{}}', ""]);
    expect(result.offset).toBe(23);
  });

  test("an empty range reads nothing", async () => {
    expect(await read("", {})).toMatchObject({ offset: 0, bytesRead: 0, lines: [] });
    expect(await read("abc\n", { start: 4 })).toMatchObject({ offset: 4, bytesRead: 0, lines: [] });
  });

  test("a line longer than maxLineBytes is skipped and reported; the lines around it are read", async () => {
    const long = `{"x":"${"y".repeat(100)}"}`;
    const result = await read(`{"a":1}\n${long}\n{"b":2}\n`, { chunkBytes: 8, maxLineBytes: 32 });
    expect(result.lines.map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(result.oversized).toEqual([8 + long.length + 1]);
    expect(result.offset).toBe(8 + long.length + 1 + 8);
  });

  test("an oversized line that never ends is left for the next run", async () => {
    const result = await read(`{"a":1}\n${"z".repeat(100)}`, { chunkBytes: 8, maxLineBytes: 16 });
    expect(result.lines.map((l) => l.text)).toEqual(['{"a":1}']);
    expect(result.oversized).toEqual([]);
    expect(result.offset).toBe(8);
  });
});
