import type { SqliteStore } from "../../src/store/sqlite/index.ts";
import type { ReportProgram, SqlRows } from "../../src/report/sql/query.ts";

/** Rows of one statement, read through the store's own read path. */
export function queryRows(store: SqliteStore, sql: string): SqlRows {
  return store.read(function* (): ReportProgram<SqlRows> {
    return yield { sql, params: [] };
  });
}

/** `SELECT count(*)` of a table. */
export function countRows(store: SqliteStore, table: string): number {
  return Number(queryRows(store, `SELECT count(*) AS n FROM ${table}`)[0]!.n);
}
