/**
 * Tool-call telemetry for MCP servers built on `@modelcontextprotocol/sdk` 1.x (an optional
 * peer dependency; this module imports nothing from it).
 *
 * ```ts
 * import { instrumentMcpServer } from "tally/mcp";
 * instrumentMcpServer(server, telemetry); // McpServer or low-level Server, before connect()
 * ```
 * @module tally/mcp
 */
export { instrumentMcpServer } from "./instrument-server.ts";
export type { McpInstrumentationOptions } from "./options.ts";
export type { ConnectableServer } from "./shapes.ts";
export { ARGUMENTS_ATTRIBUTE, RESULT_ATTRIBUTE } from "./connection.ts";
export { EXECUTION_ID_META_KEY, traceIdOf } from "./execution-id.ts";
