import type { SqliteDriver, SqliteStatement } from "./driver.ts";
import type { BatchWriteOptions } from "./write-batch.ts";

/**
 * How far an importer has read one file (a row of `import_files`), so that the next import
 * parses only what was appended. Keyed by (source, path).
 */
export interface ImportFileState {
  /** Which importer, e.g. `"claude-code"`. */
  source: string;
  /** Absolute path of the file. */
  path: string;
  /**
   * File size in bytes when it was last read to its end. An importer saving progress in the
   * middle of a file stores the offset here instead, so the file never looks unchanged.
   */
  size: number;
  /** File modification time (epoch ms) when it was last read. */
  mtimeMs: number;
  /** Byte offset just past the last complete line read; reading resumes here. */
  offset: number;
  /** Hash of the file's first bytes (up to 4 KiB of what was read), to notice a rewritten file. */
  headHash: string | null;
  /** Complete lines read so far, for line numbers in messages. */
  lines: number;
  /** Malformed lines met so far. */
  malformed: number;
  /** When this state was saved (epoch ms). */
  updatedAt: number;
}

/** Options of `SqliteStore.write`. */
export interface WriteOptions extends BatchWriteOptions {
  /**
   * Import progress to save in the same transaction as the batch, so a crash can never leave
   * the offsets ahead of (or behind) the rows they account for.
   */
  importFiles?: readonly ImportFileState[];
}

const COLUMNS = "source, path, size, mtime_ms, offset, head_hash, lines, malformed, updated_at";
const SELECT = `SELECT ${COLUMNS} FROM import_files WHERE source = ? AND path = ?`;
/** Run once per import: not worth a cached statement. */
const SELECT_ALL = `SELECT ${COLUMNS} FROM import_files WHERE source = ?`;

const UPSERT = `INSERT INTO import_files (${COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (source, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, offset = excluded.offset,
    head_hash = excluded.head_hash, lines = excluded.lines, malformed = excluded.malformed, updated_at = excluded.updated_at`;

/** Prepared once per connection. */
const statements = new WeakMap<SqliteDriver, { select: SqliteStatement; upsert: SqliteStatement }>();

function prepared(driver: SqliteDriver) {
  let s = statements.get(driver);
  if (s === undefined) {
    s = { select: driver.prepare(SELECT), upsert: driver.prepare(UPSERT) };
    statements.set(driver, s);
  }
  return s;
}

/** The saved state of one file, or undefined when it was never imported. */
export function readImportState(driver: SqliteDriver, source: string, path: string): ImportFileState | undefined {
  const row = prepared(driver).select.get(source, path);
  return row === undefined ? undefined : fromRow(row);
}

/** Every saved state of one importer, by path: one query instead of one per file (2,415 files: 20 → 3 ms). */
export function readImportStates(driver: SqliteDriver, source: string): Map<string, ImportFileState> {
  const states = new Map<string, ImportFileState>();
  for (const row of driver.prepare(SELECT_ALL).all(source)) states.set(String(row.path), fromRow(row));
  return states;
}

function fromRow(row: Record<string, unknown>): ImportFileState {
  return {
    source: String(row.source),
    path: String(row.path),
    size: Number(row.size),
    mtimeMs: Number(row.mtime_ms),
    offset: Number(row.offset),
    headHash: row.head_hash === null ? null : String(row.head_hash),
    lines: Number(row.lines),
    malformed: Number(row.malformed),
    updatedAt: Number(row.updated_at),
  };
}

/** Saves states; runs inside the caller's transaction (or autocommits each when there is none). */
export function writeImportStates(driver: SqliteDriver, states: readonly ImportFileState[]): void {
  const upsert = prepared(driver).upsert;
  for (const s of states) {
    upsert.run(s.source, s.path, s.size, Math.floor(s.mtimeMs), s.offset, s.headHash, s.lines, s.malformed, s.updatedAt);
  }
}
