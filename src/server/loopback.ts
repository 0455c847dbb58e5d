const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** True for an address only this machine can reach. Its own module: `tally serve` checks it before loading the server. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
