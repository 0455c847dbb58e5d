/** Options of `instrumentMcpServer`, with their defaults in one place. */
import { TallyConfigError } from "../../core/errors.ts";
import { silentLogger, type Logger } from "../../core/logger.ts";

/** Options of {@link instrumentMcpServer}. */
export interface McpInstrumentationOptions {
  /** The `server` column of each tool call. @default the name in the server's info */
  serverName?: string;
  /**
   * Store each call's arguments and result (as JSON text, in `attributes`). Off by default:
   * they can hold user data and secrets.
   * @default false
   */
  captureArguments?: boolean;
  /** With `captureArguments`, each text is cut to at most this many UTF-8 bytes. @default 2048 */
  maxCapturedBytes?: number;
  /** Calls awaiting a response per connection; beyond it new calls are not recorded (and logged once). @default 10000 */
  maxPendingCalls?: number;
  /** The `source` of session rows. @default "mcp" */
  source?: string;
  /** pino-compatible; a failure inside the instrumentation is logged once. @default silent */
  logger?: Logger;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  serverName: string | undefined;
  captureArguments: boolean;
  maxCapturedBytes: number;
  maxPendingCalls: number;
  source: string;
  logger: Logger;
}

/** Largest `maxCapturedBytes`: two texts must fit in one record's attributes (64 KiB). */
const MAX_CAPTURED_BYTES = 16 * 1024;

function positiveInteger(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new TallyConfigError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Applies defaults; throws `TallyConfigError` for an impossible value. */
export function resolveOptions(options: McpInstrumentationOptions | undefined): ResolvedOptions {
  const serverName = options?.serverName;
  if (serverName !== undefined && (typeof serverName !== "string" || serverName.length === 0)) {
    throw new TallyConfigError("serverName must be a non-empty string");
  }
  return {
    serverName,
    captureArguments: options?.captureArguments === true,
    maxCapturedBytes: positiveInteger("maxCapturedBytes", options?.maxCapturedBytes, 2048, MAX_CAPTURED_BYTES),
    maxPendingCalls: positiveInteger("maxPendingCalls", options?.maxPendingCalls, 10_000, 1_000_000),
    source: options?.source ?? "mcp",
    logger: options?.logger ?? silentLogger,
  };
}
