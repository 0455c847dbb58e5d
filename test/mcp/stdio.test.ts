import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { removeTempDirs } from "../support/temp-dir.ts";
import { CLIENT_INFO, sqliteTelemetry } from "./harness.ts";
import { SERVER_NAME } from "./servers.ts";

afterAll(removeTempDirs);

const fixture = join(import.meta.dir, "fixtures/stdio-server.ts");

for (const kind of ["McpServer", "Server"] as const) {
  describe(`${kind} over stdio, in its own process`, () => {
    test("when the client ends stdin the server exits, and its calls and its ended session are in the database", async () => {
      const db = sqliteTelemetry(); // only its file and readers: the child process writes
      const transport = new StdioClientTransport({ command: process.execPath, args: [fixture, db.path, kind], stderr: "inherit" });
      const client = new Client(CLIENT_INFO);
      await client.connect(transport);
      expect((await client.callTool({ name: "echo", arguments: { text: "over stdio" } })).content).toEqual([{ type: "text", text: "over stdio" }]);
      expect((await client.callTool({ name: "refuse", arguments: {} })).isError).toBe(true);
      // Still running when the client leaves: the process exits, and the telemetry's exit flush
      // first closes what the integration holds open (cancelled, "shutdown"). The pipe delivers
      // the request before the end of stdin; the pause only lets the client write it first.
      const waiting = client.callTool({ name: "wait", arguments: {} }).catch((error: Error) => error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close();
      expect(await waiting).toBeInstanceOf(Error);

      const rows = db.toolCalls();
      expect(rows.map((row) => `${row.tool_name} ${row.outcome} ${row.error_type ?? "-"}`).sort()).toEqual([
        "echo ok -",
        "refuse tool_error tool_error",
        "wait cancelled shutdown",
      ]);
      const sessions = db.sessions();
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ client_name: CLIENT_INFO.name, client_version: CLIENT_INFO.version, source: "mcp" });
      expect(sessions[0]!.ended_at).not.toBeNull();
      for (const row of rows) expect(row).toMatchObject({ server: SERVER_NAME, session_id: sessions[0]!.id });
    }, 20_000);
  });
}
