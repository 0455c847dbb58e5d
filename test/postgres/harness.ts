/**
 * The PostgreSQL server the tests use: `TALLY_TEST_POSTGRES_URL`, which `npm test` sets by
 * starting a throwaway server (scripts/test-postgres.sh, Debian's `postgresql`). Without it the
 * server suites are skipped, each saying why. The store-independent report contract also runs
 * on PGlite (PostgreSQL compiled to WebAssembly, in this process, behind
 * @electric-sql/pglite-socket), server or not; PGlite is one session per database, so it cannot
 * stand in for several connections at once, other processes, or `search_path` per connection.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import postgres from "postgres";
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/index.ts";

export const POSTGRES_URL = process.env.TALLY_TEST_POSTGRES_URL ?? "";
/** Why a suite that needs a real server is skipped, or null when there is one. */
export const SKIP_REASON =
  POSTGRES_URL === ""
    ? "no PostgreSQL server (this suite needs several sessions, other processes or search_path per connection, which PGlite cannot give): set TALLY_TEST_POSTGRES_URL or install Debian's postgresql (npm test starts one)"
    : null;
if (SKIP_REASON !== null) console.warn(`skipping the PostgreSQL suites that need a server (the report contract runs on PGlite): ${SKIP_REASON}`);

/** A schema name no other test uses: each store gets an empty database of its own. */
export function freshSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

const opened: PostgresStore[] = [];

/**
 * The clock of the stores in tests whose records carry fixed dates (2026-11-20 and so on): a
 * few days after them, so that no result depends on the day the tests run (on the real clock
 * such records are "more than a year ahead" with the clock set back, and expire one day).
 */
export const TEST_NOW = Date.UTC(2026, 10, 25, 12);
export const testClock = (): number => TEST_NOW;

/** A store on a fresh schema, closed by `closeStores`. */
export function openTestStore(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  const store = openPostgresStore({ url: POSTGRES_URL, schema: freshSchema(), retentionDays: 0, ...options });
  opened.push(store);
  return store;
}

const pglites: { stop(): Promise<void> }[] = [];

export async function closeStores(): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await Promise.all(pglites.splice(0).map((p) => p.stop()));
}

/**
 * A store on a PGlite database of its own, for the store-independent suites: its one session's
 * search_path is set to the store's schema up front (PGlite ignores the one postgres.js sends
 * when connecting). Closed, with its database, by `closeStores`.
 */
export async function openPgliteStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const schema = freshSchema();
  const db = await PGlite.create();
  await db.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
  // Two connections: a purge holds one for its advisory lock while it deletes on the other.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 2 });
  await server.start();
  pglites.push({ stop: async () => { await server.stop(); await db.close(); } });
  // getServerConn() is host:port, the port the server bound (port 0: any free one).
  const store = openPostgresStore({ url: `postgres://postgres@${server.getServerConn()}/postgres`, schema, retentionDays: 0, maxConnections: 2,
    // pglite-socket cannot carry COPY … FROM STDIN (electric-sql/pglite#1028): the row-by-row path only.
    copy: false, ...options });
  opened.push(store);
  return store;
}

/** A plain connection to `schema`, to look at what the store wrote. */
export function rawConnection(schema: string): ReturnType<typeof postgres> {
  return postgres(POSTGRES_URL, { connection: { search_path: schema }, onnotice: () => {}, max: 1 });
}

/**
 * A store on a fresh schema, migrated once, then `writers` processes of a writer script in
 * fixtures/ racing to write into it (each told its number and how many batches to write);
 * resolves, once they all exit, to the store and their exit codes.
 */
export async function raceWriterProcesses(fixture: string, writers: number, batches: number): Promise<{ store: PostgresStore; codes: number[] }> {
  const store = openTestStore();
  await store.ready; // migrated once, before the writers race
  const script = join(import.meta.dir, "fixtures", fixture);
  const children = Array.from({ length: writers }, (_, w) =>
    Bun.spawn([process.execPath, script, POSTGRES_URL, store.schema, String(w), String(batches)], { stdout: "inherit", stderr: "inherit" }));
  return { store, codes: await Promise.all(children.map((c) => c.exited)) };
}
