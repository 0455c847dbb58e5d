/** What every connection of one instrumented server shares. */
import { toError } from "../../core/errors.ts";
import { safeLog } from "../../core/logger.ts";
import type { Telemetry } from "../../core/telemetry.ts";
import type { ResolvedOptions } from "./options.ts";

/** Shared by the connections of one instrumented server. */
export interface CaptureContext {
  readonly telemetry: Pick<Telemetry, "recordToolCall" | "startSession" | "endSession">;
  /** The `server` column, or undefined when the server has no name. */
  readonly serverName: string | undefined;
  readonly options: ResolvedOptions;
  /** Reports a failure inside a hook: logged the first time only. */
  fail(error: unknown): void;
}

/** A context whose failures are logged once per instrumented server. */
export function createCaptureContext(
  telemetry: CaptureContext["telemetry"],
  serverName: string | undefined,
  options: ResolvedOptions,
): CaptureContext {
  let failed = false;
  return {
    telemetry,
    serverName,
    options,
    fail(error) {
      // A hook that fails once fails for every message: one line, not one per message.
      if (failed) return;
      failed = true;
      safeLog(options.logger, "warn", { error: toError(error).message }, "tally: an MCP instrumentation hook failed; the server is unaffected, some calls may go unrecorded");
    },
  };
}
