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
   * to choose the run's id (a deterministic one makes a retried run count once). An id that
   * Tally made for an earlier query is never reused: a context passed again, or spread into
   * the next query's context, gets a new id for the new run. In a streaming-input session
   * each later run gets a new id when the message after a result is asked for.
   */
  executionId?: string;
}

/**
 * Run ids Tally made, and whether a run has started under each: an id Tally made for one
 * query must not name the next (a reused or spread context would hand it on, and the next
 * run would be dropped as a duplicate). Ids the caller chose are not here and are kept.
 * Bounded: the oldest entries go first, long after their run has ended.
 */
const madeIds = new Map<string, "assigned" | "started">();
const MADE_IDS_KEPT = 10_000;

function remember(id: string, state: "assigned" | "started"): void {
  if (madeIds.size >= MADE_IDS_KEPT && !madeIds.has(id)) madeIds.delete(madeIds.keys().next().value!);
  madeIds.set(id, state);
}

/** A new run id, made by Tally, marked as started (used for runs after the first of a session). */
export function newRunId(): string {
  const id = newRecordId();
  remember(id, "started");
  return id;
}

function readId(context: AgentRunContext): string | undefined {
  try {
    const id = context.executionId;
    return typeof id === "string" && id.length > 0 ? id : undefined;
  } catch {
    return undefined; // a throwing getter: treated as no id
  }
}

function writeId(context: AgentRunContext, id: string): void {
  try {
    context.executionId = id;
  } catch {
    // Frozen or otherwise read-only: its tool calls then link to no run, or the previous one.
  }
}

/**
 * The run id of `context`, made now and stored there when it has none. Never throws: a
 * context that cannot be written (frozen) keeps no id, so its tool calls link to no run.
 */
export function ensureExecutionId(context: AgentRunContext): string {
  const given = readId(context);
  if (given !== undefined) return given;
  const id = newRecordId();
  remember(id, "assigned");
  writeId(context, id);
  return id;
}

/**
 * The id of the run a query starts now: the context's id when the caller chose it, or when
 * Tally made it for this run (`telemetryHooks` called first); a new one, stored in the
 * context, when the context has none or carries the id of a run Tally already started.
 */
export function startRun(context: AgentRunContext): string {
  const given = readId(context);
  if (given !== undefined && madeIds.get(given) !== "started") {
    if (madeIds.has(given)) remember(given, "started");
    return given;
  }
  const id = newRunId();
  writeId(context, id);
  return id;
}

/** `context` when it is an object, else a fresh one (a JavaScript caller may pass anything). */
export function contextOf(context: unknown): AgentRunContext {
  return typeof context === "object" && context !== null ? (context as AgentRunContext) : {};
}
