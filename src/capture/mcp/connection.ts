/**
 * One transport connection of an instrumented server: matches each `tools/call` request with
 * its response (or its cancellation, or the end of the connection) by JSON-RPC id, and keeps
 * the connection's session row.
 */
import { safeLog } from "../../core/logger.ts";
import { newRecordId } from "../../core/ids.ts";
import type { ToolCallRecord } from "../../core/records.ts";
import type { CaptureContext } from "./context.ts";
import { executionIdFromMeta } from "./execution-id.ts";
import { trackConnection, untrackConnection } from "./open-connections.ts";
import { CANCELLED, CONNECTION_CLOSED, outcomeOf, SHUT_DOWN, type CallOutcome } from "./outcome.ts";
import { holdOpen, type OpenWork } from "../../core/open-work.ts";
import type { TransportLike, WireMessage } from "./shapes.ts";
import { truncateUtf8, utf8Length } from "./utf8.ts";

/** Longest tool name, client name or version kept; a longer one is cut, so the row is still stored. */
const MAX_NAME_LENGTH = 256;

/** Attribute keys of captured arguments and results (OpenTelemetry GenAI's names). */
export const ARGUMENTS_ATTRIBUTE = "gen_ai.tool.call.arguments";
export const RESULT_ATTRIBUTE = "gen_ai.tool.call.result";

/** A call whose response has not been sent yet. */
interface PendingCall {
  toolName: string;
  sessionId: string;
  executionId: string | null;
  /** performance.now() when the request arrived: monotonic, so durations never go negative. */
  startedAt: number;
  inputBytes: number;
  argumentsText: string | undefined;
}

type RequestId = string | number;

function shortName(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length === 0) return undefined;
  return value.length > MAX_NAME_LENGTH ? value.slice(0, MAX_NAME_LENGTH) : value;
}

/** Per-connection state; its methods are called from the transport hooks, inside try/catch. */
export class McpConnection implements OpenWork {
  private readonly pending = new Map<RequestId, PendingCall>();
  private generatedSessionId: string | undefined;
  private sessionStarted = false;
  private closed = false;
  private overflowLogged = false;
  /** Releases this connection from the telemetry's open work (or the process exit hook). */
  private release: (() => void) | null = null;

  constructor(
    private readonly transport: TransportLike,
    private readonly context: CaptureContext,
  ) {}

  /**
   * Streamable HTTP's own session id (set before `initialize` reaches the server), else one
   * made for this connection, so the calls of one stdio or in-memory connection group together.
   */
  private sessionId(): string {
    return this.transport.sessionId ?? (this.generatedSessionId ??= newRecordId());
  }

  /** A message from the client, before the server handles it. */
  received(message: WireMessage): void {
    const method = message.method;
    // No method: a response to a request of the server's own (sampling, elicitation…).
    if (method === undefined || this.closed) return;
    if (method === "tools/call") {
      if (message.id !== undefined) this.callStarted(message.id, message);
    } else if (method === "notifications/cancelled") {
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof requestId === "string" || typeof requestId === "number") this.callEnded(requestId, CANCELLED, null, undefined);
    } else if (method === "initialize") {
      const clientInfo = (message.params as { clientInfo?: { name?: unknown; version?: unknown } } | undefined)?.clientInfo;
      this.startSession(shortName(clientInfo?.name), shortName(clientInfo?.version));
    }
  }

  /** A message the server sends, before it is handed to the transport. */
  sending(message: WireMessage): void {
    if (this.pending.size === 0 || message.method !== undefined || message.id === undefined) return;
    if (!this.pending.has(message.id)) return;
    this.callEnded(message.id, outcomeOf(message), utf8Length(JSON.stringify(message)), message.result);
  }

  /** The transport closed (or the process is exiting): calls still waiting will never be answered. */
  transportClosed(): void {
    this.end(CONNECTION_CLOSED);
  }

  /** The telemetry is stopping: running calls are recorded as cancelled with the time they ran, the session ends. */
  closeForShutdown(): void {
    this.end(SHUT_DOWN);
  }

  private end(pendingOutcome: CallOutcome): void {
    if (this.closed) return;
    this.closed = true;
    this.release?.();
    this.release = null;
    for (const id of [...this.pending.keys()]) this.callEnded(id, pendingOutcome, null, undefined);
    if (this.sessionStarted) this.context.telemetry.endSession(this.sessionId());
  }

  /**
   * The session row is written when `initialize` arrives, so it carries the client's name and
   * version (rows are insert-once). A connection that calls a tool without initialising
   * (stateless Streamable HTTP) gets its row at that first call, without client details.
   */
  private startSession(clientName: string | undefined, clientVersion: string | undefined): void {
    if (this.sessionStarted) return;
    this.sessionStarted = true;
    // The telemetry closes it before an orderly stop drains; a stand-in telemetry without that
    // registry gets the process exit hook instead.
    this.release = holdOpen(this.context.telemetry, this);
    if (this.release === null) {
      trackConnection(this);
      this.release = () => untrackConnection(this);
    }
    const client = clientName === undefined && clientVersion === undefined ? undefined : { name: clientName, version: clientVersion };
    this.context.telemetry.startSession(this.sessionId(), { source: this.context.options.source, client });
  }

  private callStarted(id: RequestId, message: WireMessage): void {
    if (this.pending.size >= this.context.options.maxPendingCalls) {
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        safeLog(this.context.options.logger, "warn", { maxPendingCalls: this.context.options.maxPendingCalls },
          "tally: too many MCP tool calls awaiting a response on one connection; new ones are not recorded");
      }
      return;
    }
    const startedAt = performance.now();
    if (!this.sessionStarted) this.startSession(undefined, undefined);
    const params = message.params as { name?: unknown; arguments?: unknown; _meta?: unknown } | undefined;
    const argumentsValue = params?.arguments;
    this.pending.set(id, {
      toolName: shortName(params?.name) ?? "(invalid)",
      sessionId: this.sessionId(),
      executionId: executionIdFromMeta(params?._meta),
      startedAt,
      inputBytes: utf8Length(JSON.stringify(message)),
      argumentsText:
        this.context.options.captureArguments && argumentsValue !== undefined
          ? truncateUtf8(JSON.stringify(argumentsValue), this.context.options.maxCapturedBytes)
          : undefined,
    });
  }

  private callEnded(id: RequestId, ended: CallOutcome, outputBytes: number | null, result: unknown): void {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    const record: ToolCallRecord = {
      toolName: call.toolName,
      outcome: ended.outcome,
      errorType: ended.errorType,
      server: this.context.serverName,
      sessionId: call.sessionId,
      executionId: call.executionId,
      durationMs: performance.now() - call.startedAt,
      inputBytes: call.inputBytes,
      outputBytes,
    };
    if (this.context.options.captureArguments) record.attributes = this.capturedAttributes(call, result);
    this.context.telemetry.recordToolCall(record);
  }

  private capturedAttributes(call: PendingCall, result: unknown): Record<string, string> | null {
    const attributes: Record<string, string> = {};
    if (call.argumentsText !== undefined) attributes[ARGUMENTS_ATTRIBUTE] = call.argumentsText;
    if (result !== undefined) attributes[RESULT_ATTRIBUTE] = truncateUtf8(JSON.stringify(result), this.context.options.maxCapturedBytes);
    return call.argumentsText === undefined && result === undefined ? null : attributes;
  }
}
