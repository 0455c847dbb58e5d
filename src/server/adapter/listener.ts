/** What a runtime adapter gives back: where it listens and how to stop it gracefully. */
export interface Listener {
  /** `http://host:port`, with the port actually bound (0 picks a free one). */
  url: string;
  port: number;
  /** Stops accepting connections and resolves once requests in flight are answered. */
  close(): Promise<void>;
}

/** Socket options every adapter honours. */
export interface ListenOptions {
  host: string;
  port: number;
  /** A request whose headers have not all arrived after this long is dropped. */
  headersTimeoutMs: number;
  /** A request (headers and body) that takes longer than this is dropped. */
  requestTimeoutMs: number;
}

export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A host as it goes in a URL: IPv6 in brackets. */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
