/**
 * Reports are written once, as programs that yield SQL and receive rows, so that each store
 * only runs statements: synchronously (SQLite) or asynchronously (PostgreSQL, later), with
 * the same planning and row finishing (Drizzle's dialect/session split).
 */
import type { SqlDialect } from "./dialect.ts";

/** A value every store can bind. */
export type SqlParam = string | number | null;

/** One statement with its bound values. */
export interface SqlQuery {
  sql: string;
  params: SqlParam[];
}

export type SqlRows = Record<string, unknown>[];

/** A report as a program: yields queries, is resumed with their rows, returns the report. */
export type ReportProgram<R> = Generator<SqlQuery, R, SqlRows>;

/** Runs a program against a synchronous store. */
export function runProgram<R>(program: ReportProgram<R>, all: (query: SqlQuery) => SqlRows): R {
  let step = program.next(undefined as unknown as SqlRows);
  while (!step.done) step = program.next(all(step.value));
  return step.value;
}

/** Runs a program against an asynchronous store (PostgreSQL). */
export async function runAsyncProgram<R>(program: ReportProgram<R>, all: (query: SqlQuery) => Promise<SqlRows>): Promise<R> {
  let step = program.next(undefined as unknown as SqlRows);
  while (!step.done) step = program.next(await all(step.value));
  return step.value;
}

/** Collects a statement's bound values and writes their placeholders in the dialect's style. */
export class ParamList {
  readonly values: SqlParam[] = [];

  constructor(private readonly dialect: SqlDialect) {}

  /** The placeholder of a new bound value. */
  add(value: SqlParam): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length);
  }
}
