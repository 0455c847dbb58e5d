import type { MaybePromise, Store } from "../core/store.ts";
import type { Report, ReportSpec } from "./spec.ts";
import type { SqlDialect } from "./sql/dialect.ts";
import type { ReportProgram } from "./sql/query.ts";

/** A store that can also answer reports (the CLI, the server and the dashboard read through this). */
export interface ReadableStore extends Store {
  /** Answers a report; throws {@link StoreUnavailableError} when the database could not be opened. */
  report<S extends ReportSpec>(spec: S): MaybePromise<Report<S>>;
  /**
   * Runs a read program written in the report dialect (the runs list, a run, a session: see
   * `report/runs.ts`); throws {@link StoreUnavailableError} as `report` does.
   */
  read<R>(program: (dialect: SqlDialect) => ReportProgram<R>): MaybePromise<R>;
}
