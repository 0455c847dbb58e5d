/**
 * Shared helpers for the process-level tests: temp dirs, child processes speaking a
 * line protocol on stdout, a logger that records its calls, and direct database reads.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../../src/core/logger.ts";

export const FIXTURES = join(import.meta.dir, "fixtures");

/** A fresh temp directory; `cleanupTempDirs()` removes every one made so far. */
const made: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-"));
  made.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface LogCall {
  level: "error" | "warn" | "info" | "debug";
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-shaped logger that keeps every call, so tests can assert on what was logged. */
export function collectingLogger(): { logger: Logger; calls: LogCall[]; text(level?: LogCall["level"]): string } {
  const calls: LogCall[] = [];
  const at = (level: LogCall["level"]) => (obj: object, msg?: string) => void calls.push({ level, obj: { ...obj } as Record<string, unknown>, msg });
  return {
    logger: { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") },
    calls,
    text: (level) =>
      calls
        .filter((c) => level === undefined || c.level === level)
        .map((c) => `${c.level} ${c.msg ?? ""} ${JSON.stringify(c.obj)}`)
        .join("\n"),
  };
}

/** A child process (Bun running a fixture) whose stdout is read line by line. */
export interface Child {
  proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  /** Closes the child's stdin (children that wait for it then finish). */
  closeStdin(): void;
  /** Resolves with the first stdout line (from the start) matching `match`; rejects on exit or timeout. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string>;
  /** Every stdout line so far. */
  lines: string[];
  /** Everything the child wrote to stderr (complete once `exited` resolved). */
  stderr(): Promise<string>;
  /** What the child has written to stderr so far. */
  stderrSoFar(): string;
  exited: Promise<number>;
  /**
   * The exit code, once the child exits; if it has not within `timeoutMs`, it is SIGKILLed
   * and this rejects with what it printed, so a hang fails with a diagnosis, not a timeout.
   */
  exitWithin(timeoutMs: number): Promise<number>;
}

export function spawnFixture(name: string, args: string[], env: Record<string, string> = {}, cwd?: string, runtime = process.execPath): Child {
  const proc = Bun.spawn([runtime, join(FIXTURES, name), ...args], {
    ...(cwd !== undefined ? { cwd } : {}),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  let stderrBuffered = "";
  const stderrText = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderrBuffered += decoder.decode(chunk, { stream: true });
    return stderrBuffered;
  })();
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        lines.push(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
      for (const wake of waiters) wake();
    }
    if (buffered.length > 0) lines.push(buffered);
    ended = true;
    for (const wake of waiters) wake();
  })();
  return {
    proc,
    lines,
    exited: proc.exited,
    closeStdin: () => void proc.stdin.end(),
    stderr: () => stderrText,
    stderrSoFar: () => stderrBuffered,
    async exitWithin(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const outcome = await Promise.race([proc.exited, timedOut]);
      clearTimeout(timer);
      if (outcome !== "timeout") return outcome;
      let wchan = "";
      try {
        wchan = readFileSync(`/proc/${proc.pid}/wchan`, "utf8");
      } catch {
        // not Linux, or already gone
      }
      proc.kill("SIGKILL");
      throw new Error(
        `${name} (pid ${proc.pid}) did not exit within ${timeoutMs} ms (wchan ${wchan || "?"}); ` +
          `stdout: ${lines.join(" | ")}; stderr: ${stderrBuffered}`,
      );
    },
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no stdout line matching ${match} within ${timeoutMs} ms; got: ${lines.join(" | ")}`));
        }, timeoutMs);
        const check = () => {
          const line = lines.find((l) => match.test(l));
          if (line !== undefined || ended) {
            clearTimeout(timer);
            waiters.delete(check);
            if (line !== undefined) resolve(line);
            else void stderrText.then((err) => reject(new Error(`child ended without a line matching ${match}; stdout: ${lines.join(" | ")}; stderr: ${err}`)));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The rollup invariant and integrity, read with a plain bun:sqlite connection. */
export function inspectDb(path: string): {
  integrity: string;
  executions: number;
  runs: number;
  inputTokens: number;
  rollupInputTokens: number;
  toolCalls: number;
  rollupCalls: number;
} {
  const db = new Database(path);
  try {
    const integrity = (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    const one = (sql: string) => Number((db.query(sql).get() as { v: number | null }).v ?? 0);
    return {
      integrity,
      executions: one("SELECT count(*) AS v FROM executions"),
      runs: one("SELECT sum(runs) AS v FROM daily_usage"),
      inputTokens: one("SELECT sum(input_tokens) AS v FROM executions"),
      rollupInputTokens: one("SELECT sum(input_tokens) AS v FROM daily_usage"),
      toolCalls: one("SELECT count(*) AS v FROM tool_calls"),
      rollupCalls: one("SELECT sum(calls) AS v FROM daily_tool_usage"),
    };
  } finally {
    db.close();
  }
}

/**
 * Catches unhandled rejections and uncaught exceptions while installed. Under `bun test` the
 * runner sees them first and fails the running test itself (checked with a deliberate
 * rejection), so there this is a second net; under plain bun or node it is the only one.
 */
export function hostErrorTrap(): { install(): void; uninstall(): void; seen: unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => void seen.push(reason);
  const onException = (error: unknown) => void seen.push(error);
  return {
    seen,
    install() {
      process.on("unhandledRejection", onRejection);
      process.on("uncaughtException", onException);
    },
    uninstall() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
