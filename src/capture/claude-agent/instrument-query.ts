import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import type { Telemetry } from "../../core/telemetry.ts";
import { contextOf, type AgentRunContext } from "./context.ts";
import { RunTracker } from "./run-tracker.ts";

/** Options of {@link instrumentQuery} and {@link telemetryHooks}. */
export interface InstrumentOptions {
  /** Milliseconds on a monotonic clock, for durations the SDK does not report. @default performance.now */
  now?: () => number;
}

const monotonicNow = () => performance.now();

/**
 * Yields every message of `query` unchanged, in order, unknown types included, and records
 * one execution per run from its `result` message (see {@link AgentRunContext}). When the SDK
 * throws, the open run is recorded as `error` and the same error object is re-thrown.
 * Stopping early (`break`) ends the query too, as a `for await` over it would; a run cut
 * short that way is recorded as `cancelled`.
 *
 * The returned generator has none of `Query`'s control methods (`interrupt()`, …): call them
 * on the query itself.
 *
 * @example
 * const ctx = { repo: "acme/app", model: "claude-sonnet-4-5" };
 * const q = query({ prompt, options: { model: ctx.model, hooks: telemetryHooks(telemetry, ctx) } });
 * for await (const message of instrumentQuery(q, telemetry, ctx)) { … }
 */
export function instrumentQuery<M extends SDKMessage>(
  query: AsyncIterable<M>,
  telemetry: Telemetry,
  context: AgentRunContext = {},
  options: InstrumentOptions = {},
): AsyncGenerator<M, void, undefined> {
  // Made now, not at the first next(): the run id is in `context` before any hook can fire.
  const tracker = new RunTracker(telemetry, contextOf(context), options?.now ?? monotonicNow);
  return relay(query, tracker);
}

async function* relay<M>(query: AsyncIterable<M>, tracker: RunTracker): AsyncGenerator<M, void, undefined> {
  let iterator: AsyncIterator<M, unknown, undefined>;
  try {
    iterator = query[Symbol.asyncIterator]();
  } catch (error) {
    tracker.failed(error);
    throw error;
  }
  let settled = false;
  try {
    for (;;) {
      tracker.beforeNext();
      let step: IteratorResult<M, unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        settled = true;
        tracker.failed(error);
        throw error;
      }
      if (step.done) {
        settled = true;
        tracker.ended(true);
        return;
      }
      tracker.observe(step.value);
      yield step.value;
    }
  } finally {
    if (!settled) {
      // The caller stopped early (break, return, throw): close the query as for-await would.
      tracker.ended(false);
      await iterator.return?.();
    }
  }
}
