import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { formatHost, type FetchHandler, type ListenOptions, type Listener } from "./listener.ts";

/** Serves `fetch` with node:http through @hono/node-server. */
export function listenNode(fetch: FetchHandler, options: ListenOptions): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
      resolve({
        url: `http://${formatHost(options.host)}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // close() stops accepting and waits for open requests; idle keep-alive sockets go at once.
            (server as Server).close(() => done());
            (server as Server).closeIdleConnections?.();
          }),
      });
    }) as Server;
    server.headersTimeout = options.headersTimeoutMs;
    server.requestTimeout = options.requestTimeoutMs;
    server.once("error", reject);
  });
}
