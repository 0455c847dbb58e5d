import type { Attributes, ExecutionRecord } from "../../core/records.ts";
import type { AgentRunContext } from "./context.ts";
import { primaryModel, sumUsage, type UsageByModel } from "./model-usage.ts";
import type { SeenTokens } from "./streamed-usage.ts";

/**
 * Model name when neither the result, the init message nor the context names one (also used
 * by the Claude Code import for a transcript's API response without a model).
 */
export const UNKNOWN_MODEL = "unknown";

/** What the stream told us about a run besides its result. */
export interface RunFacts {
  executionId: string;
  /** The latest `system/init` message's model. */
  initModel: string | undefined;
  /** The latest session id seen. */
  sessionId: string | undefined;
  /** `system/api_retry` messages seen during the run. */
  apiRetries: number;
}

/** This run's share of the session's cumulative totals. */
export interface RunIncrease {
  usage: UsageByModel;
  /** Undefined when the result reported no usable cost: Tally then prices the tokens. */
  costUsd: number | undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The context's attributes plus what Tally observed; undefined when there is nothing. */
function attributesOf(context: AgentRunContext, observed: Attributes): Attributes | undefined {
  const own = context.attributes;
  const base = typeof own === "object" && own !== null && !Array.isArray(own) ? own : undefined;
  let empty = true;
  for (const _ in observed) {
    empty = false;
    break;
  }
  if (empty) return base;
  return base === undefined ? observed : { ...base, ...observed };
}

function identity(context: AgentRunContext, facts: RunFacts) {
  return {
    id: facts.executionId,
    deliveryId: context.deliveryId,
    eventType: context.eventType,
    repo: context.repo,
    prNumber: context.prNumber,
  };
}

/**
 * One execution from a `result` message: `failure` for an error subtype or `is_error: true`
 * (a success subtype after an API error), `success` otherwise.
 */
export function resultExecution(
  result: Record<string, unknown>,
  increase: RunIncrease,
  facts: RunFacts,
  context: AgentRunContext,
  measuredMs: number,
): ExecutionRecord {
  const subtype = result.subtype;
  const failed = subtype !== "success" || result.is_error === true;
  const observed: Attributes = {};
  if (facts.apiRetries > 0) observed.apiRetries = facts.apiRetries;
  if (subtype !== "success" && typeof subtype === "string") observed.resultSubtype = subtype;
  const apiErrorStatus = count(result.api_error_status);
  if (apiErrorStatus !== undefined) observed.apiErrorStatus = apiErrorStatus;
  const tokens = sumUsage(increase.usage);
  return {
    ...identity(context, facts),
    model: primaryModel(increase.usage) ?? facts.initModel ?? context.model ?? UNKNOWN_MODEL,
    conclusion: failed ? "failure" : "success",
    inputTokens: tokens.inputTokens,
    outputTokens: tokens.outputTokens,
    cacheReadTokens: tokens.cacheReadTokens,
    cacheCreationTokens: tokens.cacheCreationTokens,
    durationMs: count(result.duration_ms) ?? measuredMs,
    costUsd: increase.costUsd,
    sessionId: text(result.session_id) ?? facts.sessionId,
    numTurns: count(result.num_turns),
    stopReason: text(result.stop_reason) ?? null,
    attributes: attributesOf(context, observed),
  };
}

/**
 * One execution for a run that produced no result: `error` when the SDK threw or the stream
 * ended without one, `cancelled` when the caller stopped iterating or the telemetry shut down.
 * Tokens are those of the responses streamed so far (0 when none were); the model is the
 * configured one, else the latest response's, else the init message's.
 */
export function unfinishedExecution(
  conclusion: "error" | "cancelled",
  errorType: string | undefined,
  facts: RunFacts,
  context: AgentRunContext,
  measuredMs: number,
  seen: SeenTokens | null = null,
): ExecutionRecord {
  const observed: Attributes = {};
  if (facts.apiRetries > 0) observed.apiRetries = facts.apiRetries;
  if (errorType !== undefined) observed.errorType = errorType;
  return {
    ...identity(context, facts),
    model: text(context.model) || seen?.model || facts.initModel || UNKNOWN_MODEL,
    conclusion,
    ...(seen === null
      ? {}
      : { inputTokens: seen.inputTokens, outputTokens: seen.outputTokens, cacheReadTokens: seen.cacheReadTokens, cacheCreationTokens: seen.cacheCreationTokens }),
    durationMs: measuredMs,
    sessionId: facts.sessionId,
    attributes: attributesOf(context, observed),
  };
}

/** A short, content-free name for what was thrown (`AbortError`, `Error`, …), never its message. */
export function errorTypeOf(thrown: unknown): string {
  if (thrown instanceof Error) {
    const name: unknown = thrown.name;
    return typeof name === "string" && name.length > 0 ? name.slice(0, 100) : "Error";
  }
  return thrown === null ? "null" : typeof thrown;
}
