import { fstatSync, writeSync } from "node:fs";

/** Where a command writes, and what it may read of its environment; injectable for tests. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Wall-clock now, in epoch ms. */
  now(): number;
  /** The machine's time zone (IANA name), where reports' days begin unless --tz or TZ says otherwise. */
  timeZone(): string;
  /** Resolves when a long-running command (`serve`) should stop; default: SIGTERM or SIGINT. */
  untilStopped?(): Promise<string>;
}

/**
 * The real process's io. Writes go straight to the file descriptor, and `process.stdout` /
 * `process.stderr` are only created on a character device (where they answer isTTY and
 * columns): creating one in Bun loads its stream modules, ~18 ms of a ~60 ms `tally report`.
 */
export function processIo(): CliIo {
  return {
    stdout: processOutput(1, () => process.stdout),
    stderr: processOutput(2, () => process.stderr),
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
  };
}

function processOutput(fd: 1 | 2, stream: () => NodeJS.WriteStream): CliIo["stdout"] {
  let closed = false;
  let terminal: boolean | undefined;
  const isTerminal = () => (terminal ??= isCharacterDevice(fd) && stream().isTTY === true);
  return {
    write(text: string) {
      if (!closed) closed = !writeFully(fd, text);
    },
    get isTTY() {
      return isTerminal();
    },
    get columns() {
      return isTerminal() ? stream().columns : undefined;
    },
  };
}

/** A terminal is a character device; pipes and files are not, and need no stream to say so. */
function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text`, waiting out a non-blocking descriptor's EAGAIN. False once the reader
 * has gone (`tally report | head`): a closed pipe is not an error, the rest is dropped.
 */
function writeFully(fd: number, text: string): boolean {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EAGAIN") Atomics.wait(pause, 0, 0, 1);
      else if (code === "EPIPE") return false;
      else throw error;
    }
  }
  return true;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(io: CliIo): boolean {
  return Boolean(io.stdout.isTTY) && !io.env.NO_COLOR && io.env.TERM !== "dumb";
}
