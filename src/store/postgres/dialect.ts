import { toPostgresRegex } from "../../report/glob.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";

/** PostgreSQL's SQL: `$n` placeholders, integer `/` on bigints, Tally's globs as anchored regular expressions. */
export const postgresDialect: SqlDialect = {
  placeholder: (n) => `$${n}`,
  intDiv: (left, right) => `(${left} / ${right})`,
  globMatch: (column, placeholder) => `${column} ~ ${placeholder}`,
  globParam: toPostgresRegex,
  listAgg: (column) => `string_agg(${column}::text, ',')`,
};
