import { formatHost, type FetchHandler, type ListenOptions, type Listener } from "./listener.ts";

/** Serves `fetch` with Bun.serve. */
export function listenBun(fetch: FetchHandler, options: ListenOptions): Listener {
  const server = Bun.serve({
    fetch,
    hostname: options.host,
    port: options.port,
    // Bun has one idle timeout (seconds, at most 255) for a connection that sends nothing.
    idleTimeout: Math.min(255, Math.max(1, Math.ceil(options.headersTimeoutMs / 1000))),
    maxRequestBodySize: Number.MAX_SAFE_INTEGER, // the app enforces its own limit, after decompression
  });
  const port = server.port ?? options.port;
  return {
    url: `http://${formatHost(options.host)}:${port}`,
    port,
    // false: let requests in flight finish; the promise settles when they have.
    close: async () => {
      await server.stop(false);
    },
  };
}
