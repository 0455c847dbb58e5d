import type { Sql } from "postgres";
import { inSchemaTransaction } from "./connection.ts";
import { MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./schema.ts";

/** The database was written by a newer Tally: this one must not write it. */
export class PostgresSchemaTooNewError extends Error {
  constructor(readonly found: number) {
    super(`the database has schema version ${found}, newer than this tally's ${POSTGRES_SCHEMA_VERSION}; upgrade tally to write it`);
    this.name = "PostgresSchemaTooNewError";
  }
}

/** The key of a schema's advisory lock: every process migrating the same schema takes the same one. */
export const advisoryKey = (schema: string, purpose: string) => `tally:${schema}:${purpose}`;

/** The schema version in `schema`, 0 when Tally has never written it. */
export async function readSchemaVersion(sql: Sql, schema: string): Promise<number> {
  const [found] = await sql`SELECT to_regclass(${`${schema}.tally_meta`}) AS t`;
  if (found?.t === null || found?.t === undefined) return 0;
  const [row] = await sql.unsafe(`SELECT value FROM "${schema}".tally_meta WHERE key = 'schema_version'`);
  return row === undefined ? 0 : Number(row.value);
}

/**
 * Brings `schema` to the current version in one transaction, holding an advisory lock, so
 * several servers starting at once migrate it once. Refuses a newer schema.
 * Returns the versions before and after.
 */
export async function migrate(sql: Sql, schema: string): Promise<{ from: number; to: number }> {
  // The schema goes on the search_path before it exists (a SET allows that): the migrations' SQL names tables bare.
  return inSchemaTransaction(sql, schema, "", async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${advisoryKey(schema, "migrate")}, 0))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const from = await readSchemaVersion(tx as unknown as Sql, schema);
    if (from > POSTGRES_SCHEMA_VERSION) throw new PostgresSchemaTooNewError(from);
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await tx.unsafe(migration.sql);
      await tx.unsafe(
        `INSERT INTO "${schema}".tally_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(migration.version)],
      );
    }
    return { from, to: Math.max(from, POSTGRES_SCHEMA_VERSION) };
  });
}
