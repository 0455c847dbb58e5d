import { toSqliteGlob } from "../../report/glob.ts";
import type { SqlDialect } from "../../report/sql/dialect.ts";

/** SQLite's SQL: `?` placeholders, integer `/` on integers, GLOB for Tally's patterns. */
export const sqliteDialect: SqlDialect = {
  placeholder: () => "?",
  intDiv: (left, right) => `(${left} / ${right})`,
  globMatch: (column, placeholder) => `${column} GLOB ${placeholder}`,
  globParam: toSqliteGlob,
  listAgg: (column) => `group_concat(${column})`,
};
