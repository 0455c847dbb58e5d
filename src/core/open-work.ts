/**
 * What an integration holds open — an MCP session, a tool call awaiting its answer, an agent
 * run still streaming — registered with the telemetry, so an orderly stop records it before
 * the queue is drained: `shutdown()`, the `beforeExit` flush and the `exit` flush each close
 * what is held first. Core knows nothing of the integrations: only this interface.
 */
import type { Telemetry } from "./telemetry.ts";

/** Something held open that records how it ended when closed. */
export interface OpenWork {
  /**
   * Records the work's end through the telemetry's `record*()` (a session ended, a call
   * cancelled with the time it ran), synchronously. Called at most once by the telemetry.
   */
  closeForShutdown(): void;
}

/** The registry a telemetry made by `createTelemetry` carries under {@link OPEN_WORK}. */
export interface OpenWorkRegistry {
  add(work: OpenWork): void;
  delete(work: OpenWork): void;
}

/** Where the registry lives on a telemetry: a symbol, so it is no part of the public surface. */
export const OPEN_WORK: unique symbol = Symbol.for("tally.openWork") as never;

/**
 * Registers `work` with the telemetry until the returned release is called; null when the
 * telemetry has no registry (a stand-in made by the host), so the caller can fall back.
 */
export function holdOpen(telemetry: Partial<Telemetry>, work: OpenWork): (() => void) | null {
  const registry = (telemetry as { [OPEN_WORK]?: OpenWorkRegistry })[OPEN_WORK];
  if (registry === undefined) return null;
  registry.add(work);
  return () => registry.delete(work);
}

/** Closes every registered work once, each guarded: one failing must not keep the others open. */
export function closeAll(works: Set<OpenWork>): void {
  for (const work of [...works]) {
    works.delete(work);
    try {
      work.closeForShutdown();
    } catch {
      // An integration's failure here must not stop the drain that follows.
    }
  }
}
