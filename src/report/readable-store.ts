import type { MaybePromise, Store } from "../core/store.ts";
import type { Report, ReportSpec } from "./spec.ts";

/** A store that can also answer reports (the CLI, the server and the dashboard read through this). */
export interface ReadableStore extends Store {
  /** Answers a report; throws {@link StoreUnavailableError} when the database could not be opened. */
  report<S extends ReportSpec>(spec: S): MaybePromise<Report<S>>;
}
