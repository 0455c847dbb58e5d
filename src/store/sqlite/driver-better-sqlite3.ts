import type BetterSqlite3 from "better-sqlite3";
import type { OpenDriverOptions, SqliteDriver, SqliteStatement, SqlValue } from "./driver.ts";

/** better-sqlite3 (Node) behind the driver interface. */
export function openBetterSqlite3Driver(load: () => typeof BetterSqlite3, options: OpenDriverOptions): SqliteDriver {
  const Database = load();
  const db = new Database(options.path, { readonly: options.readonly, fileMustExist: options.readonly });
  const wrap = (statement: BetterSqlite3.Statement): SqliteStatement => ({
    run: (...params: SqlValue[]) => ({ changes: statement.run(...params).changes }),
    get: (...params: SqlValue[]) => statement.get(...params) as Record<string, unknown> | undefined,
    all: (...params: SqlValue[]) => statement.all(...params) as Record<string, unknown>[],
  });
  return {
    name: "better-sqlite3",
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => wrap(db.prepare(sql)),
    close: () => db.close(),
  };
}
