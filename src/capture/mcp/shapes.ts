/**
 * The few shapes of the MCP SDK this capture relies on, written structurally so that
 * `tally/mcp` loads nothing from `@modelcontextprotocol/sdk` (an optional peer) and accepts
 * servers and transports from any 1.x copy of it, however many are installed.
 */

/** A JSON-RPC message as it crosses a transport; only the fields read here are named. */
export interface WireMessage {
  id?: string | number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** The parts of the SDK's `Transport` the instrumentation wraps. */
export interface TransportLike {
  start(): Promise<void>;
  send(message: WireMessage, options?: unknown): Promise<void>;
  onmessage?: ((message: WireMessage, extra?: unknown) => void) | undefined;
  onclose?: (() => void) | undefined;
  /** Set by Streamable HTTP once the session is initialised; undefined elsewhere. */
  sessionId?: string | undefined;
}

/** The low-level `Server` (or anything with its `connect`). */
export interface ConnectableServer {
  // `any` so that a server typed against the SDK's own Transport is accepted as is.
  connect(transport: any): Promise<void>;
}

/** `McpServer`: a connectable server that wraps a low-level one. */
export interface WrappingServer extends ConnectableServer {
  server: ConnectableServer;
}
