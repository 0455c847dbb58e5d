/**
 * `tally serve`'s flags and environment, in-process: tokens from a file, a bind beyond loopback
 * refused without both tokens, a port in use, bad numbers — each a clear error with its exit code.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { runCli } from "../../src/cli/main.ts";
import { removeTempDirs, tempDir } from "../support/temp-dir.ts";
import { capturingIo } from "./harness.ts";

afterAll(removeTempDirs);

/** Runs `tally serve …`; `whileServing` runs once it listens, then the command is told to stop. */
async function serve(args: string[], env: Record<string, string> = {}, whileServing?: (url: string) => Promise<void>) {
  const { io, stdout, stderr } = capturingIo({ env });
  let stop = (_: string) => {};
  io.untilStopped = () =>
    new Promise<string>((resolve) => {
      stop = resolve;
      const url = /"url":"([^"]+)"/.exec(stdout())?.[1] ?? "";
      void (whileServing ?? (async () => {}))(url).finally(() => stop("test"));
    });
  const code = await runCli(["serve", "--port", "0", "--json", "--db", join(tempDir(), "tally.db"), ...args], io, COMMANDS);
  return { code, stdout: stdout(), stderr: stderr() };
}

describe("tally serve flags", () => {
  test("tokens from files: ingest needs the ingest token, reading the read token", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ingest"), "ingest-token-from-file-0001\n");
    writeFileSync(join(dir, "read"), "read-token-from-file-00001\n");
    const run = await serve(["--ingest-token-file", join(dir, "ingest"), "--read-token-file", join(dir, "read")], {}, async (url) => {
      expect((await fetch(`${url}/api/v1/runs`)).status).toBe(401);
      expect((await fetch(`${url}/api/v1/runs`, { headers: { authorization: "Bearer read-token-from-file-00001" } })).status).toBe(200);
      const post = (token: string) =>
        fetch(`${url}/v1/batch`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: '{"records":[]}' });
      expect((await post("read-token-from-file-00001")).status).toBe(401);
      expect((await post("ingest-token-from-file-0001")).status).toBe(200);
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.split("\n")[0]!).auth).toEqual({ ingest: "token", read: "token" });
  });

  test("--report-workers 0 and 3 answer reports alike (on the server's thread, on three worker threads)", async () => {
    const answers: unknown[] = [];
    for (const workers of ["0", "3"]) {
      const run = await serve(["--report-workers", workers], {}, async (url) => {
        const post = await fetch(`${url}/v1/batch`, {
          method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ records: [{ kind: "execution", id: "r1", model: "claude-sonnet-4-5", conclusion: "success", repo: "acme/api", inputTokens: 7, createdAt: "2026-11-22T10:00:00Z" }] }),
        });
        expect(post.status).toBe(200);
        const responses = await Promise.all(["by=repo", "by=model", "by=hour&tz=Asia/Kolkata"].map((q) => fetch(`${url}/api/v1/reports/usage?since=2026-11-01&until=2026-12-01&${q}`)));
        answers.push(await Promise.all(responses.map((r) => r.json())));
      });
      expect(run.code).toBe(0);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect((answers[0] as { totals: { inputTokens: number } }[])[0]!.totals.inputTokens).toBe(7);
  });

  test("beyond loopback without both tokens: refused before anything listens (exit 2)", async () => {
    const run = await serve(["--host", "0.0.0.0"], { TALLY_INGEST_TOKEN: "only-the-ingest-token-1" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("refusing to listen on 0.0.0.0 without both an ingest token and a read token");
    expect(run.stdout).toBe("");
  });

  test("a port in use: exit 1 with a hint", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { io, stderr } = capturingIo();
      const code = await runCli(["serve", "--port", String(port), "--db", join(tempDir(), "tally.db")], io, COMMANDS);
      expect(code).toBe(1);
      expect(stderr()).toMatch(/in use|cannot listen/);
    } finally {
      blocker.close();
    }
  });

  test("bad numbers, short tokens and unreadable token files are clear errors", async () => {
    for (const [args, env, pattern, exit] of [
      [["--port", "70000"], {}, /--port takes a whole number from 0 to 65535/, 2],
      [["--port", "abc"], {}, /--port takes a whole number/, 2],
      [["--max-body-bytes", "12"], {}, /--max-body-bytes takes a whole number from 1024/, 2],
      [["--retention-days", "-1"], {}, /--retention-days/, 2],
      [["--report-workers", "65"], {}, /--report-workers takes a whole number from 0 to 64/, 2],
      [[], { TALLY_REPORT_WORKERS: "two" }, /--report-workers takes a whole number/, 2],
      [[], { TALLY_PORT: "x" }, /--port takes a whole number/, 2],
      [["--ingest-token", "short"], {}, /ingestToken must be at least 16 characters/, 2],
      [["--read-token", "has spaces in it, sixteen+"], {}, /readToken may hold only/, 2],
      [["--ingest-token-file", "/no/such/file"], {}, /cannot read --ingest-token-file/, 1],
    ] as [string[], Record<string, string>, RegExp, number][]) {
      const { io, stderr } = capturingIo({ env });
      const code = await runCli(["serve", "--db", join(tempDir(), "tally.db"), ...args], io, COMMANDS);
      expect({ args, code }).toEqual({ args, code: exit });
      expect(stderr()).toMatch(pattern);
    }
  });
});
