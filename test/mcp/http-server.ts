/**
 * A stateful Streamable HTTP MCP endpoint on 127.0.0.1 (port 0), as the SDK's examples build
 * one: a transport and a fresh server per session, found again by the mcp-session-id header.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";

export interface McpHttpEndpoint {
  url: URL;
  /** Sessions open right now. */
  openSessions(): number;
  close(): Promise<void>;
}

/**
 * Serves MCP over Streamable HTTP; `newServer` makes (and, if wanted, instruments) each
 * session's server. `stateless`: no session ids, a fresh transport and server per request,
 * closed when the response ends, as the SDK's stateless example does.
 */
export async function serveMcpOverHttp(newServer: () => McpServer | Server, options: { stateless?: boolean } = {}): Promise<McpHttpEndpoint> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http: HttpServer = createServer((req, res) => {
    if (options.stateless) {
      void (async () => {
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        const server = newServer();
        res.on("close", () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res);
      })().catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
      return;
    }
    void (async () => {
      const sessionId = req.headers["mcp-session-id"];
      let transport = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
      if (transport === undefined) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, created),
        });
        created.onclose = () => {
          if (created.sessionId !== undefined) transports.delete(created.sessionId);
        };
        await newServer().connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    openSessions: () => transports.size,
    async close() {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
