/**
 * The server's options, resolved once: defaults in one place, impossible values refused with
 * a typed error. `tally serve` maps its flags and environment onto these.
 */
import { TallyConfigError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Pricer, PricerOptions } from "../pricing/pricer.ts";
import type { ReadableStore } from "../report/readable-store.ts";

/** Options of {@link createServerApp}. */
export interface ServerAppOptions {
  /** Where records go and reports come from. */
  store: ReadableStore;
  /**
   * Answers reports instead of the store's own thread (`tally serve` on a SQLite file: worker
   * threads, `startReportWorkers`), so that long reports run side by side and never hold up
   * ingest. Runs lists and details still come from the store.
   */
  reports?: Pick<ReadableStore, "report">;
  /** Bearer token for `POST /v1/*`; without it ingest is open (loopback only, see `listen`). */
  ingestToken?: string;
  /** Bearer token for `/api/*` and `/metrics`; without it reading is open. */
  readToken?: string;
  /** Largest request body, after decompression. @default 16 MiB */
  maxBodyBytes?: number;
  /** Records waiting for the store at most; beyond it requests get 429. @default 20000 */
  maxQueuedRecords?: number;
  /** Records per transaction at most. @default 5000 */
  maxBatchRecords?: number;
  /** Origins allowed to call the API from a browser; none unless given. */
  corsOrigins?: string[];
  /** Prices for records that carry no cost. */
  pricing?: Pricer | PricerOptions;
  /** pino-compatible; one line per start, errors once. Never given record contents. @default silent */
  logger?: Logger;
  /** Wall-clock now in epoch ms; tests inject their own. @default Date.now */
  now?: () => number;
}

export type ResolvedServerAppOptions = Required<Omit<ServerAppOptions, "ingestToken" | "readToken" | "pricing" | "logger">> &
  Pick<ServerAppOptions, "ingestToken" | "readToken" | "pricing" | "logger">;

export const SERVER_DEFAULTS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxQueuedRecords: 20_000,
  maxBatchRecords: 5_000,
} as const;

/** Checks that `value` is a whole number in [min, max]; the one range check every option uses. */
export function wholeNumberInRange(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TallyConfigError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A token must be long enough not to be guessed and printable in a header. */
function checkToken(name: string, token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  if (token.length < 16) throw new TallyConfigError(`${name} must be at least 16 characters`);
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(token)) throw new TallyConfigError(`${name} may hold only letters, digits and ._~+/- (a bearer token)`);
  return token;
}

export function resolveServerAppOptions(options: ServerAppOptions): ResolvedServerAppOptions {
  if (typeof options?.store?.write !== "function" || typeof options.store.report !== "function") {
    throw new TallyConfigError("createServerApp needs a store that can write and report (openSqliteStore)");
  }
  if (options.reports !== undefined && typeof options.reports?.report !== "function") throw new TallyConfigError("reports must answer report(spec) (startReportWorkers)");
  return {
    store: options.store,
    reports: options.reports ?? options.store,
    ingestToken: checkToken("ingestToken", options.ingestToken),
    readToken: checkToken("readToken", options.readToken),
    maxBodyBytes: wholeNumberInRange("maxBodyBytes", options.maxBodyBytes, SERVER_DEFAULTS.maxBodyBytes, 1024, 1024 ** 3),
    maxQueuedRecords: wholeNumberInRange("maxQueuedRecords", options.maxQueuedRecords, SERVER_DEFAULTS.maxQueuedRecords, 1, 10_000_000),
    maxBatchRecords: wholeNumberInRange("maxBatchRecords", options.maxBatchRecords, SERVER_DEFAULTS.maxBatchRecords, 1, 1_000_000),
    corsOrigins: options.corsOrigins ?? [],
    pricing: options.pricing,
    logger: options.logger,
    now: options.now ?? Date.now,
  };
}
