/**
 * Telemetry for the Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`, an optional peer):
 * one execution per run from the message stream, one tool call per tool use from hooks.
 * Only the SDK's types are imported, so this module loads without the SDK installed.
 * @module tally/claude-agent
 */
export type { AgentRunContext } from "./context.ts";
export { instrumentQuery, type InstrumentOptions } from "./instrument-query.ts";
export { telemetryHooks, type TelemetryHooks } from "./hooks.ts";
export { toolIdentity, type ToolIdentity } from "./tool-name.ts";
export { UNKNOWN_MODEL } from "./to-execution.ts";
