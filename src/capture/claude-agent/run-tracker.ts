import { holdOpen, type OpenWork } from "../../core/open-work.ts";
import type { ExecutionRecord } from "../../core/records.ts";
import type { Telemetry } from "../../core/telemetry.ts";
import { newRunId, startRun, type AgentRunContext } from "./context.ts";
import { readModelUsage, usageIncrease, type UsageByModel } from "./model-usage.ts";
import { StreamedUsage } from "./streamed-usage.ts";
import { errorTypeOf, resultExecution, unfinishedExecution, type RunFacts } from "./to-execution.ts";

/** Messages that show a new run has started after a result (a prompt, model output, a retry). */
function opensRun(type: unknown): boolean {
  return type === "assistant" || type === "user" || type === "stream_event";
}

/** Cost deltas are rounded to a nano-dollar so `0.3 − 0.1` is stored as `0.2`. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * Turns one query's message stream into executions: one per `result` message, plus one for
 * a run that never got its result. Every method is total: a malformed message, a throwing
 * getter or a throwing telemetry is swallowed, so the stream the caller sees never changes.
 */
export class RunTracker implements OpenWork {
  private readonly facts: RunFacts;
  /** A run is open from the start and from the first prompt, output or retry after a result. */
  private runOpen = true;
  private runStartedAt: number;
  private previousUsage: UsageByModel = new Map();
  private previousCostUsd = 0;
  private rotateBeforeNext = false;
  /** The recorded run's id, restored into the context if no run follows the rotation. */
  private idBeforeRotation: string | undefined;
  private finished = false;
  /** Tokens of the open run's responses so far, for a run that ends without its result. */
  private readonly streamed = new StreamedUsage();
  /** Releases the query from the telemetry's open work once it has ended. */
  private readonly release: (() => void) | null;

  constructor(
    private readonly telemetry: Telemetry,
    private readonly context: AgentRunContext,
    private readonly now: () => number,
  ) {
    this.facts = { executionId: startRun(context), initModel: undefined, sessionId: undefined, apiRetries: 0 };
    this.runStartedAt = now();
    let release: (() => void) | null = null;
    try {
      release = holdOpen(telemetry, this);
    } catch {
      // A stand-in telemetry with a hostile getter: the run is then simply not closed at shutdown.
    }
    this.release = release;
  }

  /** The telemetry is stopping while the query still streams: the open run is recorded as cancelled. */
  closeForShutdown(): void {
    this.finish("cancelled", () => "shutdown");
  }

  /** Sees each message before the caller does. */
  observe(message: unknown): void {
    try {
      const m = message as Record<string, unknown>;
      const type = m.type;
      if (type === "result") this.recordResult(m);
      else if (type === "system") this.observeSystem(m);
      else if (!this.runOpen && opensRun(type)) this.openRun();
      if (type === "assistant" && this.runOpen) this.streamed.observe(m);
    } catch {
      // A message shaped unlike the SDK's types is passed on untouched and not counted.
    }
  }

  /**
   * Called when the caller asks for the message after a result: the next run gets its own id
   * now, so the tool calls it makes link to it, while the caller handling the result still
   * reads the recorded run's id from the context.
   */
  beforeNext(): void {
    if (!this.rotateBeforeNext) return;
    this.rotateBeforeNext = false;
    try {
      this.idBeforeRotation = this.facts.executionId;
      this.facts.executionId = newRunId();
      this.context.executionId = this.facts.executionId;
    } catch {
      // A frozen context keeps its id; tool calls then link to the previous run.
    }
  }

  /** The SDK threw: the open run is recorded as `error` (nothing, if no run was open). */
  failed(thrown: unknown): void {
    this.finish("error", () => errorTypeOf(thrown));
  }

  /** The stream ended (`completed`) or the caller stopped iterating. */
  ended(completed: boolean): void {
    this.finish(completed ? "error" : "cancelled", () => (completed ? "no_result" : undefined));
  }

  private finish(conclusion: "error" | "cancelled", errorType: () => string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.release?.();
    try {
      if (this.runOpen) {
        this.runOpen = false;
        this.record(unfinishedExecution(conclusion, errorType(), this.facts, this.context, this.elapsedMs(), this.streamed.totals()));
      } else if (this.idBeforeRotation !== undefined) {
        this.context.executionId = this.idBeforeRotation;
      }
    } catch {
      // Nothing may reach the caller but the SDK's own error.
    }
  }

  private observeSystem(m: Record<string, unknown>): void {
    const subtype = m.subtype;
    if (subtype === "init") {
      if (typeof m.model === "string") this.facts.initModel = m.model;
      if (typeof m.session_id === "string") this.facts.sessionId = m.session_id;
    } else if (subtype === "api_retry") {
      if (!this.runOpen) this.openRun();
      this.facts.apiRetries++;
    }
  }

  private openRun(): void {
    this.runOpen = true;
    this.streamed.reset();
    this.runStartedAt = this.now();
    this.idBeforeRotation = undefined;
  }

  private recordResult(result: Record<string, unknown>): void {
    // modelUsage and total_cost_usd are running totals of the session: this run is the increase.
    const usageNow = readModelUsage(result.modelUsage);
    const reported = result.total_cost_usd;
    const costNow = typeof reported === "number" && Number.isFinite(reported) && reported >= 0 ? reported : undefined;
    let usage = usageIncrease(usageNow, this.previousUsage);
    let costUsd = costNow === undefined ? undefined : costNow - this.previousCostUsd;
    if (usage === null || (costUsd !== undefined && costUsd < 0)) {
      // The totals went down: the session was reset (/clear), so they count this run alone.
      usage = usageNow;
      costUsd = costNow;
    }
    this.previousUsage = usageNow;
    if (costNow !== undefined) this.previousCostUsd = costNow;
    if (typeof result.session_id === "string") this.facts.sessionId = result.session_id;
    const increase = { usage, costUsd: costUsd === undefined ? undefined : roundUsd(costUsd) };
    this.record(resultExecution(result, increase, this.facts, this.context, this.elapsedMs()));
    this.runOpen = false;
    this.streamed.reset();
    this.facts.apiRetries = 0;
    this.rotateBeforeNext = true;
  }

  private elapsedMs(): number {
    return Math.max(0, Math.round(this.now() - this.runStartedAt));
  }

  private record(execution: ExecutionRecord): void {
    try {
      this.telemetry.recordExecution(execution);
    } catch {
      // Telemetry's record* never throws; a stand-in that does must not break the stream.
    }
  }
}
