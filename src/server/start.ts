/**
 * Puts the app on a socket: the runtime's own server (Bun.serve, else node:http), loopback
 * unless both tokens are set, and a stop that finishes what was acknowledged.
 */
import { TallyConfigError } from "../core/errors.ts";
import type { Listener } from "./adapter/listener.ts";
import { createServerApp, type ServerApp } from "./app.ts";
import { isLoopback } from "./loopback.ts";
import { wholeNumberInRange, type ServerAppOptions } from "./options.ts";

/** Options of {@link startServer}: the app's, plus where and how to listen. */
export interface StartServerOptions extends ServerAppOptions {
  /** Address to bind; anything but loopback needs both tokens. @default "127.0.0.1" */
  host?: string;
  /** Port; 0 picks a free one. @default 4318 (OTLP/HTTP's) */
  port?: number;
  /** Headers must arrive within this. @default 10000 */
  headersTimeoutMs?: number;
  /** A whole request must arrive within this. @default 60000 */
  requestTimeoutMs?: number;
}

/** A listening server. */
export interface RunningServer {
  url: string;
  port: number;
  server: ServerApp;
  /**
   * Stops accepting connections, answers requests in flight, commits what was queued.
   * The store stays open: its owner closes it.
   */
  close(): Promise<void>;
}

export { isLoopback } from "./loopback.ts";

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const port = wholeNumberInRange("port", options.port, 4318, 0, 65_535);
  if (!isLoopback(host) && (!options.ingestToken || !options.readToken)) {
    throw new TallyConfigError(`refusing to listen on ${host} without both an ingest token and a read token: anyone who can reach it could write and read`);
  }
  const server = createServerApp(options);
  const listenOptions = {
    host,
    port,
    headersTimeoutMs: wholeNumberInRange("headersTimeoutMs", options.headersTimeoutMs, 10_000, 100, 600_000),
    requestTimeoutMs: wholeNumberInRange("requestTimeoutMs", options.requestTimeoutMs, 60_000, 100, 3_600_000),
  };
  const fetch = server.app.fetch;
  const listener: Listener =
    typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
      ? (await import("./adapter/bun.ts")).listenBun(fetch, listenOptions)
      : await (await import("./adapter/node.ts")).listenNode(fetch, listenOptions);
  let closing: Promise<void> | null = null;
  return {
    url: listener.url,
    port: listener.port,
    server,
    close() {
      closing ??= (async () => {
        await listener.close();
        await server.drain();
      })();
      return closing;
    },
  };
}
