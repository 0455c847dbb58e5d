import type { Database, Statement } from "bun:sqlite";
import type { OpenDriverOptions, SqliteDriver, SqliteStatement, SqlValue } from "./driver.ts";

type BunSqlite = { Database: typeof Database };

/** bun:sqlite behind the driver interface. `load` is injected so this file has no static runtime import. */
export function openBunDriver(load: () => BunSqlite, options: OpenDriverOptions): SqliteDriver {
  const { Database: BunDatabase } = load();
  const db = new BunDatabase(options.path, options.readonly ? { readonly: true } : { create: true, readwrite: true });
  const wrap = (statement: Statement): SqliteStatement => ({
    run: (...params: SqlValue[]) => ({ changes: statement.run(...params).changes }),
    get: (...params: SqlValue[]) => (statement.get(...params) as Record<string, unknown> | null) ?? undefined,
    all: (...params: SqlValue[]) => statement.all(...params) as Record<string, unknown>[],
  });
  return {
    name: "bun:sqlite",
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => wrap(db.prepare(sql)),
    close: () => db.close(true),
  };
}
