import { afterAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { instrumentMcpServer } from "../../src/capture/mcp/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { CLIENT_INFO, runScript, SCRIPT, SCRIPT_ROWS as EXPECTED, sqliteTelemetry, type Seen } from "./harness.ts";
import { serveMcpOverHttp } from "./http-server.ts";
import { makeServer, SERVER_NAME, WaitSignals } from "./servers.ts";

afterAll(removeTempDirs);


interface HttpSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

async function openSession(url: URL, name = CLIENT_INFO.name): Promise<HttpSession> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ ...CLIENT_INFO, name });
  await client.connect(transport);
  return { client, transport };
}

/** Ends the session as a client should: DELETE (the server closes its transport), then close. */
async function endSession({ client, transport }: HttpSession): Promise<void> {
  await transport.terminateSession();
  await client.close();
}

/** Runs the script on two sessions at once, their calls interleaved; returns what each saw and its session id. */
async function twoConcurrentSessions(url: URL, signals: WaitSignals): Promise<{ seen: Seen[][]; sessionIds: string[] }> {
  const sessions = await Promise.all([openSession(url, "client-a"), openSession(url, "client-b")]);
  const seen = await Promise.all(sessions.map((s, i) => runScript(s.client, signals, `session-${i}`)));
  const sessionIds = sessions.map((s) => s.transport.sessionId!);
  await Promise.all(sessions.map(endSession));
  return { seen, sessionIds };
}

for (const kind of ["McpServer", "Server"] as const) {
  describe(`${kind} over Streamable HTTP (two sessions at once)`, () => {
    test("rows carry each HTTP session's own id, exact outcomes, sizes and durations; sessions end on DELETE", async () => {
      const db = sqliteTelemetry();
      const signals = new WaitSignals();
      const endpoint = await serveMcpOverHttp(() => instrumentMcpServer(makeServer(kind, signals), db.telemetry));
      try {
        const { sessionIds } = await twoConcurrentSessions(endpoint.url, signals);
        expect(new Set(sessionIds).size).toBe(2);
        await db.telemetry.flush();

        const rows = db.toolCalls();
        expect(rows).toHaveLength(2 * SCRIPT.length);
        for (const sessionId of sessionIds) {
          const mine = rows.filter((row) => row.session_id === sessionId);
          expect(mine.map((row) => `${row.tool_name} ${row.outcome} ${row.error_type ?? "-"}`).sort()).toEqual([...EXPECTED[kind]].sort());
          for (const row of mine) {
            expect(row.server).toBe(SERVER_NAME);
            expect(row.duration_ms).toBeGreaterThanOrEqual(0);
            expect(row.input_bytes).toBeGreaterThan(0);
            if (row.outcome === "cancelled") expect(row.output_bytes).toBeNull();
            else expect(row.output_bytes).toBeGreaterThan(0);
          }
        }

        // The sessions really ran at once: the spans of their calls overlap.
        const span = (id: string) => rows.filter((row) => row.session_id === id).map((row) => row.created_at);
        const [a, b] = sessionIds.map(span) as [number[], number[]];
        expect(Math.max(...a)).toBeGreaterThanOrEqual(Math.min(...b));
        expect(Math.max(...b)).toBeGreaterThanOrEqual(Math.min(...a));

        const sessions = db.sessions();
        expect(sessions.map((s) => s.id).sort()).toEqual([...sessionIds].sort());
        expect(sessions.map((s) => s.client_name).sort()).toEqual(["client-a", "client-b"]);
        for (const session of sessions) {
          expect(session).toMatchObject({ source: "mcp", client_version: CLIENT_INFO.version });
          expect(session.ended_at).not.toBeNull();
          expect(session.ended_at!).toBeGreaterThanOrEqual(session.started_at);
        }
        expect(endpoint.openSessions()).toBe(0);
      } finally {
        await endpoint.close();
      }
    });

    test("the clients see exactly what an uninstrumented endpoint returns", async () => {
      const db = sqliteTelemetry();
      const signals = new WaitSignals();
      const instrumented = await serveMcpOverHttp(() => instrumentMcpServer(makeServer(kind, signals), db.telemetry));
      const twinSignals = new WaitSignals();
      const twin = await serveMcpOverHttp(() => makeServer(kind, twinSignals));
      try {
        const seen = (await twoConcurrentSessions(instrumented.url, signals)).seen;
        const seenByTwin = (await twoConcurrentSessions(twin.url, twinSignals)).seen;
        expect(seen).toEqual(seenByTwin);
        expect(seen[0]!.map((s) => s.label)).toEqual([...SCRIPT]);
      } finally {
        await instrumented.close();
        await twin.close();
      }
    });
  });
}

describe("stateless Streamable HTTP (a transport per request)", () => {
  test("each request is its own connection: one row per call, each with its own session row, ended", async () => {
    const db = sqliteTelemetry();
    const endpoint = await serveMcpOverHttp(() => instrumentMcpServer(makeServer("McpServer"), db.telemetry), { stateless: true });
    const twin = await serveMcpOverHttp(() => makeServer("McpServer"), { stateless: true });
    try {
      const seen: unknown[][] = [];
      for (const url of [endpoint.url, twin.url]) {
        const session = await openSession(url);
        seen.push([
          await session.client.callTool({ name: "echo", arguments: { text: "one" } }),
          await session.client.callTool({ name: "refuse", arguments: {} }),
        ]);
        await session.client.close();
      }
      expect(seen[0]).toEqual(seen[1]!);
      // 3 session starts, 2 calls, 3 session ends; a response's "close" comes just after the client has its answer.
      for (let i = 0; i < 50 && db.telemetry.stats().queued < 8; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await db.telemetry.flush();

      const rows = db.toolCalls();
      expect(rows.map((row) => `${row.tool_name} ${row.outcome}`)).toEqual(["echo ok", "refuse tool_error"]);
      const sessions = db.sessions();
      // initialize, then each call, arrived on a connection of its own.
      expect(sessions).toHaveLength(3);
      expect(sessions.filter((s) => s.client_name === CLIENT_INFO.name)).toHaveLength(1);
      expect(new Set(rows.map((row) => row.session_id)).size).toBe(2);
      for (const row of rows) expect(sessions.map((s) => s.id)).toContain(row.session_id!);
      for (const session of sessions) expect(session.ended_at).not.toBeNull();
    } finally {
      await endpoint.close();
      await twin.close();
    }
  });
});
