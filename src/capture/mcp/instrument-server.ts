/** `instrumentMcpServer`: tool-call telemetry for an MCP server, on every transport it connects to. */
import { TallyConfigError } from "../../core/errors.ts";
import { safeLog } from "../../core/logger.ts";
import type { Telemetry } from "../../core/telemetry.ts";
import { createCaptureContext } from "./context.ts";
import { resolveOptions, type McpInstrumentationOptions } from "./options.ts";
import type { ConnectableServer, TransportLike, WrappingServer } from "./shapes.ts";
import { prepareTransport } from "./wrap-transport.ts";

const instrumented = new WeakSet<object>();

/** McpServer delegates connect() to its low-level `Server`; hooking that covers both classes. */
function lowLevelServer(server: unknown): ConnectableServer | undefined {
  const inner = (server as Partial<WrappingServer> | null | undefined)?.server;
  if (typeof inner?.connect === "function") return inner;
  if (typeof (server as Partial<ConnectableServer> | null | undefined)?.connect === "function") return server as ConnectableServer;
  return undefined;
}

/** The name in the server's info (`new Server({ name, version })`); kept private by the SDK, read anyway. */
function serverInfoName(server: ConnectableServer): string | undefined {
  const name = (server as { _serverInfo?: { name?: unknown } })._serverInfo?.name;
  return typeof name === "string" && name.length > 0 ? name : undefined;
}

/**
 * Records every `tools/call` the server answers, on every transport it connects to from now
 * on, and one session row per connection. Call it before `connect()`. Works with `McpServer`
 * and the low-level `Server`; returns the server it was given.
 *
 * Per call: tool name, server name, session id, duration, outcome (`ok`; `tool_error` for an
 * `isError` result; `protocol_error` for a JSON-RPC error; `cancelled` for a client's
 * cancellation or a connection that closed first), an error class, request and response
 * sizes, and the execution id from `_meta` (`tally.executionId`, else a `traceparent`'s trace id).
 * Arguments and results only with `captureArguments`.
 *
 * Throws `TallyConfigError` for a wrong argument; after that, nothing it does can reach the server.
 */
export function instrumentMcpServer<S extends ConnectableServer>(
  server: S,
  telemetry: Pick<Telemetry, "recordToolCall" | "startSession" | "endSession">,
  options?: McpInstrumentationOptions,
): S {
  const target = lowLevelServer(server);
  if (target === undefined) throw new TallyConfigError("instrumentMcpServer needs an McpServer or a Server from @modelcontextprotocol/sdk");
  if (typeof telemetry?.recordToolCall !== "function" || typeof telemetry.startSession !== "function" || typeof telemetry.endSession !== "function") {
    throw new TallyConfigError("instrumentMcpServer needs a Telemetry (createTelemetry)");
  }
  const resolved = resolveOptions(options);
  if (instrumented.has(target)) {
    // Twice would record every call twice.
    safeLog(resolved.logger, "warn", {}, "tally: this MCP server is already instrumented; the second instrumentMcpServer() is ignored");
    return server;
  }
  instrumented.add(target);
  if ((target as { transport?: unknown }).transport !== undefined) {
    safeLog(resolved.logger, "warn", {}, "tally: instrumentMcpServer() after connect(): calls on the current connection are not recorded, later connections are");
  }

  const context = createCaptureContext(telemetry, resolved.serverName ?? serverInfoName(target), resolved);
  const originalConnect = target.connect;
  target.connect = function (this: unknown, transport: TransportLike, ...rest: unknown[]) {
    let hook: (() => void) | undefined;
    try {
      hook = prepareTransport(transport, context);
    } catch (error) {
      context.fail(error);
    }
    const connected = (originalConnect as (...args: unknown[]) => Promise<void>).call(this, transport, ...rest);
    // The hooks normally go in when connect() starts the transport; a server that does not start
    // it gets them once connect() settles. The caller still receives the original promise.
    if (hook !== undefined) Promise.resolve(connected).then(hook, hook);
    return connected;
  };
  return server;
}
