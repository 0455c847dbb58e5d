import type { AgentSession } from "./executor.ts";

/**
 * The Claude Agent SDK's `query()`, loaded on first use so the offline bot never loads it.
 * Read-only: the bot reviews from the prompt and its own tools, and posts through the Publisher.
 */
export function liveSession(options: { maxTurns?: number; cwd?: string } = {}): AgentSession {
  return async function* ({ prompt, model, hooks }) {
    const { query } = await import("@anthropic-ai/claude-agent-sdk");
    yield* query({
      prompt,
      options: {
        model,
        hooks,
        maxTurns: options.maxTurns ?? 8,
        cwd: options.cwd ?? process.cwd(),
        allowedTools: ["Read", "Grep", "Glob"],
        permissionMode: "dontAsk",
      },
    });
  };
}
