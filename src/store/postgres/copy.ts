/**
 * `COPY … FROM STDIN` in PostgreSQL's text format, for the writer's fast path (write.ts): COPY
 * takes PostgreSQL's multi-insert path, which an `INSERT … SELECT` never does.
 */
import type { Writable } from "node:stream";
import type { Sql } from "postgres";

/** Anything that runs a statement on one connection: a transaction, a savepoint. */
type Session = Pick<Sql, "unsafe">;

/** A column value as the writer binds it: text, a number, or NULL. */
export type CopyValue = string | number | null;

/** Characters COPY's text format gives a meaning (backslash, newline, carriage return, tab). */
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One field in COPY's text format: `\N` for NULL, the four special characters escaped. */
function field(value: CopyValue): string {
  if (value === null) return "\\N";
  if (typeof value === "number") return String(value);
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

/** Rows as COPY text: one line per row, fields separated by tabs. */
export function copyText(rows: Iterable<readonly CopyValue[]>): string {
  let text = "";
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) text += (i === 0 ? "" : "\t") + field(row[i]!);
    text += "\n";
  }
  return text;
}

/** What postgres.js hands back for a query before it runs: a promise whose `reject` it calls on any failure. */
interface PendingCopy {
  reject: (error: unknown) => void;
  writable(): Promise<Writable>;
}

/**
 * Runs `COPY target (columns) FROM STDIN` with `text` on `sql`'s connection; resolves once the
 * server has stored every row, rejects with the server's error (its SQLSTATE in `code`).
 *
 * postgres.js (3.4.x) never settles a COPY's stream when the server refuses the data after
 * the stream ended (porsager/postgres#1173): the error goes only to the query's `reject`,
 * which is a no-op by then. Hooking it makes such a COPY reject instead of hanging its
 * transaction forever (test/postgres/copy.test.ts fails if this stops working).
 */
export async function copyInto(sql: Session, target: string, columns: readonly string[], text: string): Promise<void> {
  const query = sql.unsafe(`COPY ${target} (${columns.join(", ")}) FROM STDIN`) as unknown as PendingCopy;
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const reject = query.reject;
  query.reject = (error) => {
    fail(error);
    reject(error);
  };
  const stream = await Promise.race([query.writable(), failed]);
  const finished = new Promise<void>((resolve, reject) => {
    stream.once("finish", resolve);
    stream.once("error", reject);
  });
  stream.end(text);
  await Promise.race([finished, failed]);
}
