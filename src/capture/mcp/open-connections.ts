/**
 * Connections still open when the process exits. A stdio server's transport never reports a
 * close: the client ends stdin and the process exits. At `exit` each open connection ends as
 * if its transport had closed (session ended, calls in flight recorded as cancelled), before
 * the telemetry's own `exit` listener writes the queue synchronously: ours is prepended.
 * One listener for the whole process, however many servers and connections come and go.
 */

/** What is ended at exit. */
export interface Closable {
  transportClosed(): void;
}

const open = new Set<Closable>();
let listening = false;

function endAll(): void {
  for (const connection of [...open]) {
    try {
      connection.transportClosed();
    } catch {
      // Exiting: nothing left to report to, and the other connections still deserve their end.
    }
  }
  open.clear();
}

/** Tracks a connection until {@link untrackConnection}; installs the exit listener on first use. */
export function trackConnection(connection: Closable): void {
  open.add(connection);
  if (listening) return;
  listening = true;
  const hostProcess = (globalThis as { process?: { prependListener?: (event: string, listener: () => void) => unknown } }).process;
  if (typeof hostProcess?.prependListener === "function") hostProcess.prependListener("exit", endAll);
}

export function untrackConnection(connection: Closable): void {
  open.delete(connection);
}
