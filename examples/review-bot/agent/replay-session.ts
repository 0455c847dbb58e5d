import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import type { AgentSession } from "./executor.ts";
import { recordedMention, recordedReview } from "./recorded-session.ts";

/**
 * Replays a recorded session instead of calling the model, so the bot runs on a fresh machine
 * with no key and no network. Mentions get the recorded reply, everything else the recorded review.
 */
export function replaySession(messages?: readonly SDKMessage[], options: { resultDelayMs?: number } = {}): AgentSession {
  const delay = options.resultDelayMs ?? 0;
  return async function* ({ prompt }) {
    const session = messages ?? (prompt.startsWith(MENTION_PREFIX) ? recordedMention : recordedReview);
    if (delay <= 0) {
      yield* session;
      return;
    }
    // A slow model: everything but the result at once, the result after `resultDelayMs`.
    yield* session.slice(0, -1);
    await new Promise((resolve) => setTimeout(resolve, delay));
    yield* session.slice(-1);
  };
}

/** How mention prompts begin (see prompts.ts). */
export const MENTION_PREFIX = "You were mentioned";
