import { OPEN_WORK, type Logger, type Telemetry } from "../../src/index.ts";

/**
 * Telemetry that can never break a review. Tally's `record*()` never throw by contract; this
 * guard holds that line for any `Telemetry` passed in, logging instead. (Store failures never
 * reach here at all: Tally writes in the background and logs them through its own logger.)
 */
export function failOpen(telemetry: Telemetry, logger: Logger): Telemetry & Partial<Record<typeof OPEN_WORK, unknown>> {
  const guard =
    <A extends unknown[]>(name: string, call: (...args: A) => void) =>
    (...args: A): void => {
      try {
        call(...args);
      } catch (error) {
        logger.warn({ error: String(error) }, `review-bot: telemetry ${name} failed; the review goes on`);
      }
    };
  return {
    // What the agent integration holds open is still closed first by shutdown().
    [OPEN_WORK]: (telemetry as Partial<Record<typeof OPEN_WORK, unknown>>)[OPEN_WORK],
    recordExecution: guard("recordExecution", (r) => telemetry.recordExecution(r)),
    recordRateLimitEvent: guard("recordRateLimitEvent", (r) => telemetry.recordRateLimitEvent(r)),
    recordToolCall: guard("recordToolCall", (r) => telemetry.recordToolCall(r)),
    recordCacheEvent: guard("recordCacheEvent", (r) => telemetry.recordCacheEvent(r)),
    startSession: guard("startSession", (id, options) => telemetry.startSession(id, options)),
    endSession: guard("endSession", (id) => telemetry.endSession(id)),
    flush: () => telemetry.flush(),
    shutdown: (options) => telemetry.shutdown(options),
    stats: () => telemetry.stats(),
  };
}
