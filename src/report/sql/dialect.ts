import type { GlobPattern } from "../glob.ts";

/**
 * What differs between the SQL of two stores, and nothing else: the report programs write
 * every statement through it. Identifiers passed in come from the reports' allow-lists.
 */
export interface SqlDialect {
  /** The placeholder of the n-th bound value (from 1): `?` in SQLite, `$n` in PostgreSQL. */
  placeholder(n: number): string;
  /** Integer division of two integer expressions (both non-negative here). */
  intDiv(left: string, right: string): string;
  /** A condition: `column` matches the pattern bound at `placeholder` (see `globParam`). */
  globMatch(column: string, placeholder: string): string;
  /** The value to bind for a pattern, in the dialect's own pattern language. */
  globParam(pattern: GlobPattern): string;
  /** An aggregate: a group's values of an integer column as one comma-separated string (null for none). */
  listAgg(column: string): string;
}
