import type { Sql, TransactionSql } from "postgres";
import { inSchemaStatement } from "./connection.ts";
import type { ImportFileState } from "../sqlite/import-state.ts";

const COLUMNS = `source, path, size, mtime_ms AS "mtimeMs", "offset", head_hash AS "headHash", lines, malformed, updated_at AS "updatedAt"`;

/** Import progress in PostgreSQL's `import_files`, as the SQLite store keeps it. */
export class ImportStates {
  constructor(
    private readonly sql: Sql,
    private readonly schema: string,
  ) {}

  async read(source: string, path: string): Promise<ImportFileState | undefined> {
    const [row] = await inSchemaStatement(this.sql, this.schema, `SELECT ${COLUMNS} FROM import_files WHERE source = $1 AND path = $2`, [source, path]);
    return row as ImportFileState | undefined;
  }

  async readAll(source: string): Promise<Map<string, ImportFileState>> {
    const rows = await inSchemaStatement(this.sql, this.schema, `SELECT ${COLUMNS} FROM import_files WHERE source = $1`, [source]);
    return new Map(rows.map((r) => [String(r.path), r as unknown as ImportFileState]));
  }

  async save(tx: TransactionSql, states: readonly ImportFileState[]): Promise<void> {
    for (const s of states) {
      await tx.unsafe(
        `INSERT INTO import_files (source, path, size, mtime_ms, "offset", head_hash, lines, malformed, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (source, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, "offset" = excluded."offset",
           head_hash = excluded.head_hash, lines = excluded.lines, malformed = excluded.malformed, updated_at = excluded.updated_at`,
        [s.source, s.path, s.size, s.mtimeMs, s.offset, s.headHash, s.lines, s.malformed, s.updatedAt] as never[],
      );
    }
  }
}

export type { ImportFileState };
