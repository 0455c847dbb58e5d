import type { SDKMessage, SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";
import type { Telemetry } from "../../../src/index.ts";
import { instrumentQuery, telemetryHooks, type AgentRunContext, type TelemetryHooks } from "../../../src/capture/claude-agent/index.ts";

/** What a session is asked for: the prompt, the configured model, and Tally's hooks to install. */
export interface SessionRequest {
  prompt: string;
  model: string;
  hooks: TelemetryHooks;
}

/** A source of Agent SDK messages: the live `query()`, or a recorded session replayed. */
export type AgentSession = (request: SessionRequest) => AsyncIterable<SDKMessage>;

/** How a run ended, and the text to publish. */
export interface AgentOutcome {
  conclusion: "success" | "failure" | "error";
  text: string;
}

/** Runs a prompt to its end; never throws. */
export interface Executor {
  execute(prompt: string, context: AgentRunContext & { model: string }): Promise<AgentOutcome>;
}

/**
 * The executor: every run goes through `instrumentQuery` + `telemetryHooks`, so exactly one
 * execution is recorded whatever happens — success, a failed result, or a session that throws
 * (even before its first message: the session is started inside the instrumented stream).
 */
export function createExecutor(session: AgentSession, telemetry: Telemetry): Executor {
  return {
    async execute(prompt, context) {
      const hooks = telemetryHooks(telemetry, context);
      const messages = instrumentQuery(started(session, { prompt, model: context.model, hooks }), telemetry, context);
      let result: SDKResultMessage | undefined;
      try {
        for await (const message of messages) if (message.type === "result") result = message;
      } catch (error) {
        return { conclusion: "error", text: error instanceof Error ? error.message : String(error) };
      }
      if (result === undefined) return { conclusion: "error", text: "the agent stopped without a result" };
      if (result.subtype === "success") return { conclusion: result.is_error ? "failure" : "success", text: result.result };
      return { conclusion: "failure", text: result.errors.join("; ") || result.subtype };
    },
  };
}

/** Defers `session(request)` to the first `next()`, so a session that throws at once is caught as a stream error. */
async function* started(session: AgentSession, request: SessionRequest): AsyncGenerator<SDKMessage, void, undefined> {
  yield* session(request);
}
