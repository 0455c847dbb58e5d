/**
 * Hooks on a transport a server connects to. Every hook observes inside try/catch and then
 * hands the original arguments, unchanged, to what it wraps: telemetry can fail, the server can't.
 */
import type { CaptureContext } from "./context.ts";
import { McpConnection } from "./connection.ts";
import type { TransportLike, WireMessage } from "./shapes.ts";

/** The connection a transport currently serves; `send` is wrapped once, a transport may be connected again. */
interface Slot {
  connection: McpConnection;
}

const slots = new WeakMap<object, Slot>();

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

// The wrappers pass `arguments` on as they came (whatever their number) with apply(), which
// engines optimise; a rest parameter would allocate an array per message.

/** Wraps `send` once per transport: observes the response, then sends the same message. */
function wrapSend(transport: TransportLike, slot: Slot, context: CaptureContext): void {
  const originalSend = transport.send as unknown as AnyFunction;
  transport.send = function (this: unknown, message: WireMessage) {
    try {
      slot.connection.sending(message);
    } catch (error) {
      context.fail(error);
    }
    return originalSend.apply(this, arguments as unknown as unknown[]) as Promise<void>;
  };
}

/**
 * Wraps the handlers the server has just installed, so ours runs first and theirs gets the
 * same arguments; any handler found (the user's, chained by the SDK) is kept by the SDK's own.
 */
function wrapHandlers(transport: TransportLike, connection: McpConnection, context: CaptureContext): void {
  const onmessage = transport.onmessage as AnyFunction | undefined;
  transport.onmessage = function (this: unknown, message: WireMessage) {
    try {
      connection.received(message);
    } catch (error) {
      context.fail(error);
    }
    return onmessage?.apply(this, arguments as unknown as unknown[]);
  };
  const onclose = transport.onclose as AnyFunction | undefined;
  transport.onclose = function (this: unknown) {
    try {
      connection.transportClosed();
    } catch (error) {
      context.fail(error);
    }
    return onclose?.apply(this, arguments as unknown as unknown[]);
  };
}

/**
 * Prepares `transport` for a connect(): returns a function that installs the message hooks,
 * which runs at the latest when the server starts the transport.
 *
 * Why at start(): `Protocol.connect()` installs its onmessage/onclose and then calls start().
 * Hooking there puts ours outside the SDK's whatever the SDK does with handlers it finds
 * (1.x releases from 1.10 chain them, older ones replace them), and before any message flows
 * (InMemoryTransport delivers queued messages inside start()).
 */
export function prepareTransport(transport: TransportLike, context: CaptureContext): () => void {
  const connection = new McpConnection(transport, context);
  let slot = slots.get(transport);
  if (slot === undefined) {
    slot = { connection };
    slots.set(transport, slot);
    wrapSend(transport, slot, context);
  } else {
    slot.connection = connection;
  }

  let hooked = false;
  const hook = () => {
    if (hooked) return;
    hooked = true;
    try {
      wrapHandlers(transport, connection, context);
    } catch (error) {
      context.fail(error);
    }
  };

  const hadOwnStart = Object.prototype.hasOwnProperty.call(transport, "start");
  const originalStart = transport.start as unknown as AnyFunction;
  transport.start = function (this: unknown) {
    try {
      if (hadOwnStart) transport.start = originalStart as unknown as TransportLike["start"];
      else delete (transport as { start?: unknown }).start;
      hook();
    } catch (error) {
      context.fail(error);
    }
    return originalStart.apply(this, arguments as unknown as unknown[]) as Promise<void>;
  };
  return hook;
}
