import { afterAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createTelemetry, TallyConfigError, type Telemetry } from "../../src/index.ts";
import { instrumentMcpServer } from "../../src/capture/mcp/index.ts";
import { removeTempDirs } from "../support/temp-dir.ts";
import { CLIENT_INFO, connectInMemory, runScript, SCRIPT_ROWS as EXPECTED, sqliteTelemetry, throwingStore, type ToolCallRowView } from "./harness.ts";
import { makeServer, SERVER_NAME, WaitSignals } from "./servers.ts";

afterAll(removeTempDirs);


const summary = (row: ToolCallRowView) => `${row.tool_name} ${row.outcome} ${row.error_type ?? "-"}`;
const sorted = (values: string[]) => [...values].sort();

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

for (const kind of ["McpServer", "Server"] as const) {
  describe(`${kind} over InMemoryTransport`, () => {
    test("records one row per tools/call with the exact outcome, server, session and sizes", async () => {
      const db = sqliteTelemetry();
      const signals = new WaitSignals();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind, signals), db.telemetry));
      await runScript(client, signals);
      await client.close();
      await db.telemetry.flush();

      const rows = db.toolCalls();
      expect(sorted(rows.map(summary))).toEqual(sorted(EXPECTED[kind]));
      const sessions = db.sessions();
      expect(sessions).toHaveLength(1);
      for (const row of rows) {
        expect(row.server).toBe(SERVER_NAME);
        expect(row.session_id).toBe(sessions[0]!.id);
        expect(row.execution_id).toBeNull();
        expect(row.attributes).toBeNull();
        expect(row.duration_ms).toBeGreaterThanOrEqual(0);
        expect(row.input_bytes).toBeGreaterThan(0);
        // A cancelled call has no response.
        if (row.outcome === "cancelled") expect(row.output_bytes).toBeNull();
        else expect(row.output_bytes).toBeGreaterThan(0);
      }
      // Error types are classes, never the error's text.
      expect(db.fileText()).not.toContain("secret-explosion-text");
    });

    test("the client sees exactly what an uninstrumented twin returns", async () => {
      const db = sqliteTelemetry();
      const signals = new WaitSignals();
      const instrumented = await connectInMemory(instrumentMcpServer(makeServer(kind, signals), db.telemetry));
      const twinSignals = new WaitSignals();
      const twin = await connectInMemory(makeServer(kind, twinSignals));
      const seen = await runScript(instrumented, signals);
      const seenByTwin = await runScript(twin, twinSignals);
      expect(seen).toEqual(seenByTwin);
      expect(seen.map((s) => s.label)).toEqual(["ok", "thrown", "isError", "unknown", "invalid", "cancelled"]);
      await instrumented.close();
      await twin.close();
    });

    test("one session row per connection: client name and version from initialize, ended at close", async () => {
      const db = sqliteTelemetry();
      const server = instrumentMcpServer(makeServer(kind), db.telemetry);
      const before = Date.now();
      const first = await connectInMemory(server);
      await first.callTool({ name: "echo", arguments: { text: "one" } });
      await first.close();
      // The same server, connected again: a new connection, a new session.
      const second = await connectInMemory(server);
      await second.callTool({ name: "echo", arguments: { text: "two" } });
      await second.close();
      await db.telemetry.flush();

      const sessions = db.sessions();
      expect(sessions).toHaveLength(2);
      for (const session of sessions) {
        expect(session).toMatchObject({ source: "mcp", client_name: CLIENT_INFO.name, client_version: CLIENT_INFO.version });
        expect(session.started_at).toBeGreaterThanOrEqual(before - 1);
        expect(session.ended_at).not.toBeNull();
        expect(session.ended_at!).toBeGreaterThanOrEqual(session.started_at);
      }
      expect(sessions[0]!.id).not.toBe(sessions[1]!.id);
      expect(sorted(db.toolCalls().map((row) => row.session_id!))).toEqual(sorted(sessions.map((s) => s.id)));
    });

    test("a call still running when the connection closes is recorded as cancelled (connection_closed)", async () => {
      const db = sqliteTelemetry();
      const signals = new WaitSignals();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind, signals), db.telemetry));
      const pending = client.callTool({ name: "wait", arguments: {} }).catch((error: Error) => error);
      await signals.untilStarted("", 1);
      await client.close();
      expect(await pending).toBeInstanceOf(Error);
      await db.telemetry.flush();
      const rows = db.toolCalls();
      expect(rows.map(summary)).toEqual(["wait cancelled connection_closed"]);
      expect(rows[0]!.output_bytes).toBeNull();
      expect(db.sessions()[0]!.ended_at).not.toBeNull();
    });

    test("durations measure the handler and sizes count UTF-8 bytes", async () => {
      const db = sqliteTelemetry();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind), db.telemetry));
      await client.callTool({ name: "sleep", arguments: { ms: 40 } });
      // 1000 × "é": 1000 UTF-16 units, 2000 UTF-8 bytes, in the request and echoed in the response.
      await client.callTool({ name: "echo", arguments: { text: "é".repeat(1000) } });
      await client.close();
      await db.telemetry.flush();
      const [slept, echoed] = [db.toolCalls().find((r) => r.tool_name === "sleep")!, db.toolCalls().find((r) => r.tool_name === "echo")!];
      expect(slept.duration_ms).toBeGreaterThanOrEqual(35);
      expect(slept.duration_ms).toBeLessThan(5000);
      expect(echoed.input_bytes).toBeGreaterThan(2000);
      expect(echoed.input_bytes).toBeLessThan(2200);
      expect(echoed.output_bytes).toBeGreaterThan(2000);
      expect(echoed.output_bytes).toBeLessThan(2200);
    });

    test("_meta links a call to the agent run: tally.executionId, else the traceparent's trace id", async () => {
      const db = sqliteTelemetry();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind), db.telemetry, { captureArguments: true }));
      const echo = (text: string, _meta?: Record<string, unknown>) => client.callTool({ name: "echo", arguments: { text }, _meta });
      await echo("traced", { traceparent: TRACEPARENT });
      await echo("explicit", { traceparent: TRACEPARENT, "tally.executionId": "run-42" });
      await echo("malformed", { traceparent: "00-not-a-trace-01" });
      await echo("plain");
      await client.close();
      await db.telemetry.flush();
      const executionIdOf = Object.fromEntries(
        db.toolCalls().map((row) => [(JSON.parse(row.attributes!) as Record<string, string>)["gen_ai.tool.call.arguments"], row.execution_id]),
      );
      expect(executionIdOf).toEqual({
        '{"text":"traced"}': TRACE_ID,
        '{"text":"explicit"}': "run-42",
        '{"text":"malformed"}': null,
        '{"text":"plain"}': null,
      });
    });

    test("arguments and results are not stored unless captureArguments is on", async () => {
      const marker = "marker-5e1f-argument-text";
      const off = sqliteTelemetry();
      const offClient = await connectInMemory(instrumentMcpServer(makeServer(kind), off.telemetry));
      await offClient.callTool({ name: "echo", arguments: { text: marker } });
      await offClient.close();
      await off.telemetry.flush();
      expect(off.toolCalls()[0]!.attributes).toBeNull();
      expect(off.fileText()).not.toContain(marker);

      const on = sqliteTelemetry();
      const onClient = await connectInMemory(
        instrumentMcpServer(makeServer(kind), on.telemetry, { captureArguments: true, maxCapturedBytes: 64 }),
      );
      await onClient.callTool({ name: "echo", arguments: { text: "short" } });
      await onClient.callTool({ name: "echo", arguments: { text: `${marker}-${"x".repeat(500)}` } });
      await onClient.close();
      await on.telemetry.flush();
      const [short, long] = on.toolCalls().map((row) => JSON.parse(row.attributes!) as Record<string, string>);
      expect(short).toEqual({
        "gen_ai.tool.call.arguments": '{"text":"short"}',
        "gen_ai.tool.call.result": '{"content":[{"type":"text","text":"short"}]}',
      });
      const args = long!["gen_ai.tool.call.arguments"]!;
      const result = long!["gen_ai.tool.call.result"]!;
      expect(args.startsWith(`{"text":"${marker}-xxx`)).toBe(true);
      expect(args.endsWith("…")).toBe(true);
      expect(new TextEncoder().encode(args).length).toBeLessThanOrEqual(64);
      expect(result.startsWith('{"content":[{"type":"text","text":"marker')).toBe(true);
      expect(new TextEncoder().encode(result).length).toBeLessThanOrEqual(64);
    });

    test("a telemetry whose store throws on every write changes nothing the client sees", async () => {
      const telemetry = createTelemetry({ store: throwingStore, flushOnExit: false, batchSize: 1 });
      const signals = new WaitSignals();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind, signals), telemetry));
      const twinSignals = new WaitSignals();
      const twin = await connectInMemory(makeServer(kind, twinSignals));
      expect(await runScript(client, signals)).toEqual(await runScript(twin, twinSignals));
      await client.close();
      await twin.close();
      await telemetry.flush();
      expect(telemetry.stats().written).toBe(0);
      expect(telemetry.stats().dropped.writeFailed).toBeGreaterThan(0);
    });

    test("a telemetry that throws from every method changes nothing either", async () => {
      const explode = () => {
        throw new Error("telemetry is broken");
      };
      const broken = { recordToolCall: explode, startSession: explode, endSession: explode } as unknown as Telemetry;
      const warnings: string[] = [];
      const logger = { error() {}, info() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? "") };
      const signals = new WaitSignals();
      const client = await connectInMemory(instrumentMcpServer(makeServer(kind, signals), broken, { logger }));
      const twinSignals = new WaitSignals();
      const twin = await connectInMemory(makeServer(kind, twinSignals));
      expect(await runScript(client, signals)).toEqual(await runScript(twin, twinSignals));
      await client.close();
      await twin.close();
      // Logged once, not once per message.
      expect(warnings).toHaveLength(1);
    });
  });
}

describe("instrumentMcpServer", () => {
  test("handlers set on the transport before connect() still run", async () => {
    const db = sqliteTelemetry();
    const server = instrumentMcpServer(makeServer("McpServer"), db.telemetry);
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const closes: string[] = [];
    const messages: string[] = [];
    serverTransport.onclose = () => void closes.push("user onclose");
    serverTransport.onmessage = (message) => void messages.push("method" in message ? message.method : "response");
    await server.connect(serverTransport);
    const client = new Client(CLIENT_INFO);
    await client.connect(clientTransport);
    await client.callTool({ name: "echo", arguments: { text: "hi" } });
    await client.close();
    await db.telemetry.flush();
    expect(closes).toEqual(["user onclose"]);
    expect(messages).toEqual(["initialize", "notifications/initialized", "tools/call"]);
    expect(db.toolCalls().map(summary)).toEqual(["echo ok -"]);
  });

  test("messages sent before the server connects (queued by the transport) are still seen", async () => {
    const db = sqliteTelemetry();
    const server = instrumentMcpServer(makeServer("Server"), db.telemetry);
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const client = new Client(CLIENT_INFO);
    const connecting = client.connect(clientTransport);
    // initialize is queued in the server transport until its start().
    await server.connect(serverTransport);
    await connecting;
    await client.callTool({ name: "echo", arguments: { text: "hi" } });
    await client.close();
    await db.telemetry.flush();
    expect(db.sessions()[0]).toMatchObject({ client_name: CLIENT_INFO.name });
    expect(db.toolCalls().map(summary)).toEqual(["echo ok -"]);
  });

  test("instrumenting twice records each call once", async () => {
    const db = sqliteTelemetry();
    const server = makeServer("McpServer");
    instrumentMcpServer(server, db.telemetry);
    instrumentMcpServer(server, db.telemetry);
    const client = await connectInMemory(server);
    await client.callTool({ name: "echo", arguments: { text: "hi" } });
    await client.close();
    await db.telemetry.flush();
    expect(db.toolCalls()).toHaveLength(1);
    expect(db.sessions()).toHaveLength(1);
  });

  test("instrumenting a connected server warns, and records from its next connection on", async () => {
    const db = sqliteTelemetry();
    const warnings: string[] = [];
    const logger = { error() {}, info() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? "") };
    const server = makeServer("McpServer");
    const early = await connectInMemory(server);
    instrumentMcpServer(server, db.telemetry, { logger });
    expect(warnings).toHaveLength(1);
    await early.callTool({ name: "echo", arguments: { text: "unseen" } });
    await early.close();
    const later = await connectInMemory(server);
    await later.callTool({ name: "echo", arguments: { text: "seen" } });
    await later.close();
    await db.telemetry.flush();
    expect(db.toolCalls()).toHaveLength(1);
  });

  test("serverName overrides the name in the server's info", async () => {
    const db = sqliteTelemetry();
    const client = await connectInMemory(instrumentMcpServer(makeServer("Server"), db.telemetry, { serverName: "billing" }));
    await client.callTool({ name: "echo", arguments: { text: "hi" } });
    await client.close();
    await db.telemetry.flush();
    expect(db.toolCalls()[0]!.server).toBe("billing");
  });

  test("returns the server it was given, and refuses what is not a server or a telemetry", () => {
    const db = sqliteTelemetry();
    const server = makeServer("McpServer");
    expect(instrumentMcpServer(server, db.telemetry)).toBe(server);
    expect(() => instrumentMcpServer({} as never, db.telemetry)).toThrow(TallyConfigError);
    expect(() => instrumentMcpServer(makeServer("Server"), {} as never)).toThrow(TallyConfigError);
    expect(() => instrumentMcpServer(makeServer("Server"), db.telemetry, { maxCapturedBytes: 0 })).toThrow(TallyConfigError);
  });
});
