import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import type { AgentSession } from "./executor.ts";
import { recordedMention, recordedReview } from "./recorded-session.ts";

/**
 * Replays a recorded session instead of calling the model, so the bot runs on a fresh machine
 * with no key and no network. Mentions get the recorded reply, everything else the recorded review.
 */
export function replaySession(messages?: readonly SDKMessage[]): AgentSession {
  return async function* ({ prompt }) {
    yield* messages ?? (prompt.startsWith(MENTION_PREFIX) ? recordedMention : recordedReview);
  };
}

/** How mention prompts begin (see prompts.ts). */
export const MENTION_PREFIX = "You were mentioned";
