/** What tells two snapshots of one streamed model response apart. */
export interface ResponseSnapshot {
  outputTokens: number;
  stopReason: string | null;
}

/**
 * Whether `next` is a later snapshot of the same streamed response than `kept`: more output
 * tokens, or as many and now with the stop reason `kept` lacked. Equal snapshots are not later,
 * so reading the same lines again changes nothing. The one rule for the transcript import
 * (which snapshot a batch keeps) and the store (which stored row a snapshot replaces).
 */
export function isLaterSnapshot(next: ResponseSnapshot, kept: ResponseSnapshot): boolean {
  if (next.outputTokens !== kept.outputTokens) return next.outputTokens > kept.outputTokens;
  return kept.stopReason === null && next.stopReason !== null;
}
