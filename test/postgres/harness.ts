/**
 * The PostgreSQL server the tests use: `TALLY_TEST_POSTGRES_URL`, which `npm test` sets by
 * starting a throwaway server (scripts/test-postgres.sh, Debian's `postgresql`). Without it
 * the PostgreSQL suites are skipped, and say why.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import postgres from "postgres";
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/index.ts";

export const POSTGRES_URL = process.env.TALLY_TEST_POSTGRES_URL ?? "";
export const SKIP_REASON = POSTGRES_URL === "" ? "no PostgreSQL server: set TALLY_TEST_POSTGRES_URL or install Debian's postgresql (npm test starts one)" : null;
if (SKIP_REASON !== null) console.warn(`skipping the PostgreSQL suites: ${SKIP_REASON}`);

/** A schema name no other test uses: each store gets an empty database of its own. */
export function freshSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

const opened: PostgresStore[] = [];

/** A store on a fresh schema, closed by `closeStores`. */
export function openTestStore(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  const store = openPostgresStore({ url: POSTGRES_URL, schema: freshSchema(), retentionDays: 0, ...options });
  opened.push(store);
  return store;
}

export async function closeStores(): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.close()));
}

/** A plain connection to `schema`, to look at what the store wrote. */
export function rawConnection(schema: string): ReturnType<typeof postgres> {
  return postgres(POSTGRES_URL, { connection: { search_path: schema }, onnotice: () => {}, max: 1 });
}

/**
 * Runs `writers` processes of a writer script in fixtures/ at once against `schema` (each told
 * its number and how many batches to write); resolves to their exit codes.
 */
export async function runWriterProcesses(fixture: string, schema: string, writers: number, batches: number): Promise<number[]> {
  const script = join(import.meta.dir, "fixtures", fixture);
  const children = Array.from({ length: writers }, (_, w) =>
    Bun.spawn([process.execPath, script, POSTGRES_URL, schema, String(w), String(batches)], { stdout: "inherit", stderr: "inherit" }));
  return Promise.all(children.map((c) => c.exited));
}
