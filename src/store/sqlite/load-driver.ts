import { createRequire } from "node:module";
import type { OpenDriverOptions, SqliteDriver } from "./driver.ts";
import { openBunDriver } from "./driver-bun.ts";
import { openBetterSqlite3Driver } from "./driver-better-sqlite3.ts";

const requireModule = createRequire(import.meta.url);

/** Which driver this runtime gets: bun:sqlite under Bun, better-sqlite3 elsewhere. */
export type DriverName = SqliteDriver["name"];

export function defaultDriverName(): DriverName {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun:sqlite" : "better-sqlite3";
}

/**
 * Opens a connection synchronously (so `openSqliteStore` can return a store at once).
 * Drivers are required lazily: importing Tally never loads one it will not use.
 */
export function openDriver(options: OpenDriverOptions & { driver?: DriverName }): SqliteDriver {
  const name = options.driver ?? defaultDriverName();
  if (name === "bun:sqlite") return openBunDriver(() => requireModule("bun:sqlite"), options);
  return openBetterSqlite3Driver(() => {
    try {
      return requireModule("better-sqlite3");
    } catch (error) {
      throw new Error("tally/sqlite on Node needs the optional peer dependency better-sqlite3: npm install better-sqlite3", {
        cause: error,
      });
    }
  }, options);
}
