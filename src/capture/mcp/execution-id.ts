/**
 * Links a tool call to the agent run that made it, from the request's `params._meta`:
 * an explicit `tally.executionId`, else the trace id of a W3C `traceparent`.
 */

/** The `_meta` key an agent may set to its own execution id. */
export const EXECUTION_ID_META_KEY = "tally.executionId";

/** Longest execution id taken from a request; a longer one is ignored rather than stored. */
const MAX_EXECUTION_ID_LENGTH = 128;

// version "-" trace-id "-" parent-id "-" flags; version ff is invalid (W3C Trace Context §3.2).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-|$)/i;
const ZERO_TRACE_ID = "00000000000000000000000000000000";

/** The trace id (32 lowercase hex) of a valid `traceparent`, or undefined. */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== "string" || traceparent.length > 512) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (match === null || match[1]!.toLowerCase() === "ff") return undefined;
  const traceId = match[2]!.toLowerCase();
  if (traceId === ZERO_TRACE_ID || match[3] === "0000000000000000") return undefined;
  return traceId;
}

/** The execution id carried by a request's `_meta`, or null. */
export function executionIdFromMeta(meta: unknown): string | null {
  if (typeof meta !== "object" || meta === null) return null;
  const fields = meta as Record<string, unknown>;
  const explicit = fields[EXECUTION_ID_META_KEY];
  if (typeof explicit === "string" && explicit.length > 0 && explicit.length <= MAX_EXECUTION_ID_LENGTH) return explicit;
  return traceIdOf(fields.traceparent) ?? null;
}
