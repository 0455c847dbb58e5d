import type { Attributes } from "../../core/records.ts";
import { newRecordId } from "../../core/ids.ts";

/**
 * Who a run is for, shared by {@link instrumentQuery} and {@link telemetryHooks}: pass the
 * same object to both, one object per `query()`. Every field is optional.
 */
export interface AgentRunContext {
  /** The webhook delivery that started the run (GitHub's `X-GitHub-Delivery`). */
  deliveryId?: string | null;
  /** What started the run, e.g. `pull_request.opened` (see `tally/github`). */
  eventType?: string;
  /** `owner/name`. */
  repo?: string;
  /** The pull request or issue number. */
  prNumber?: number | null;
  /**
   * The model the query was configured with. Recorded when the SDK throws before a result
   * (the init message's model otherwise wins), and when a result names no model.
   */
  model?: string;
  /** Free attributes stored with every execution of the query (JSON). */
  attributes?: Attributes;
  /**
   * The id of the run in progress; once the stream has ended, the id of the last recorded
   * run. Set by `instrumentQuery` and `telemetryHooks` when absent (a UUIDv7), so tool calls
   * and your own records (e.g. a rate-limit event) can link to the run. Give one yourself
   * to choose the first run's id. In a streaming-input session each later run gets a new
   * id when the message after a result is asked for.
   */
  executionId?: string;
}

/**
 * The run id of `context`, made now and stored there when it has none. Never throws: a
 * context that cannot be written (frozen) keeps no id, so its tool calls link to no run.
 */
export function ensureExecutionId(context: AgentRunContext): string {
  try {
    const id = context.executionId;
    if (typeof id === "string" && id.length > 0) return id;
  } catch {
    // A throwing getter: treated as no id.
  }
  const id = newRecordId();
  try {
    context.executionId = id;
  } catch {
    // Frozen or otherwise read-only.
  }
  return id;
}

/** `context` when it is an object, else a fresh one (a JavaScript caller may pass anything). */
export function contextOf(context: unknown): AgentRunContext {
  return typeof context === "object" && context !== null ? (context as AgentRunContext) : {};
}
