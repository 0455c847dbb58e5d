import { toPostgresRegex } from "../../report/glob.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";

/**
 * PostgreSQL's SQL: `$n` placeholders, integer `/` on bigints, Tally's globs as anchored regular
 * expressions, and duration sketches merged per group in the database (`tally_sketch_sum`).
 */
export const postgresDialect: SqlDialect = {
  placeholder: (n) => `$${n}`,
  intDiv: (left, right) => `(${left} / ${right})`,
  globMatch: (column, placeholder) => `${column} ~ ${placeholder}`,
  globParam: toPostgresRegex,
  sketchAggregate: (column) => `tally_sketch_sum(${column})`,
};
