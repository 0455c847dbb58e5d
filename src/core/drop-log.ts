import { safeLog, type Logger } from "./logger.ts";

/** Why records were dropped. */
export type DropReason = "queueFull" | "invalid" | "writeFailed" | "afterShutdown";

/**
 * Counts drops by reason and logs once per episode: the first drop of a reason is logged
 * with its cause, the rest are counted silently, and when the episode ends the total is
 * reported (OpenTelemetry's batch processor does the same for its buffer).
 */
export class DropLog {
  readonly totals: Record<DropReason, number> = { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 };
  private readonly episode: Record<DropReason, number> = { queueFull: 0, invalid: 0, writeFailed: 0, afterShutdown: 0 };

  constructor(private readonly logger: Logger) {}

  drop(reason: DropReason, count: number, cause?: string): void {
    if (count <= 0) return;
    this.totals[reason] += count;
    if (this.episode[reason] === 0) {
      safeLog(this.logger, "warn", { reason, cause }, `tally: dropping records (${reason}); further drops are counted until this clears`);
    }
    this.episode[reason] += count;
  }

  /** Ends an episode, reporting how many were dropped during it. */
  end(reason: DropReason): void {
    const dropped = this.episode[reason];
    if (dropped === 0) return;
    this.episode[reason] = 0;
    safeLog(this.logger, "info", { reason, dropped }, `tally: stopped dropping records (${reason})`);
  }

}
