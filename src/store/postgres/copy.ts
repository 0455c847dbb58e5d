/**
 * `COPY … FROM STDIN` in PostgreSQL's text format, for the writer's fast path (write.ts): COPY
 * takes PostgreSQL's multi-insert path, which an `INSERT … SELECT` never does.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Sql } from "postgres";
import type { ColumnValue } from "./columns.ts";

/** What a COPY runs on: a transaction (or a pool, which lends it one connection). */
type Session = Pick<Sql, "unsafe">;

/** Characters COPY's text format gives a meaning (backslash, newline, carriage return, tab). */
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One field in COPY's text format: `\N` for NULL, the four special characters escaped. */
function field(value: ColumnValue): string {
  if (typeof value === "string") return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
  return value === null ? "\\N" : String(value);
}

/** Items `from` … `to` − 1 as COPY text: one line each (`fields` gives its values in column order), fields separated by tabs. */
export function copyText<T>(items: readonly T[], fields: (item: T) => readonly ColumnValue[], from = 0, to = items.length): string {
  let text = "";
  for (let n = from; n < to; n++) {
    const values = fields(items[n]!);
    let line = field(values[0]!);
    for (let i = 1; i < values.length; i++) line += `\t${field(values[i]!)}`;
    text += `${line}\n`;
  }
  return text;
}

/**
 * Items as COPY text in chunks of `perChunk` lines, made as they are asked for: the server
 * stores one chunk while the next is made (through createTelemetry, 5,000-row batches: 56k rows/s
 * with chunks of 100–500 lines, 51k with 1,000 or 4,000: BENCHMARKS.md).
 */
export function* copyChunks<T>(items: readonly T[], fields: (item: T) => readonly ColumnValue[], perChunk = 250): Generator<string> {
  for (let from = 0; from < items.length; from += perChunk) yield copyText(items, fields, from, Math.min(items.length, from + perChunk));
}

/** What postgres.js hands back for a query before it runs: a promise whose `reject` it calls on any failure. */
interface PendingCopy {
  reject: (error: unknown) => void;
  writable(): Promise<Writable>;
}

/** A COPY whose data is on its way: `stored` settles once the server has taken or refused it. */
export interface SentCopy {
  stored: Promise<void>;
}

/**
 * Starts `COPY target (columns) FROM STDIN` on `sql`'s connection and hands it `text`;
 * resolves once the data is sent, so the caller's JavaScript can run while the server works.
 * `stored` resolves once the server has stored every row, or rejects with its error (the
 * SQLSTATE in `code`).
 *
 * postgres.js (3.4.x) never settles a COPY's stream when the server refuses the data after
 * the stream ended (porsager/postgres#1173): the error goes only to the query's `reject`,
 * which is a no-op by then. Hooking it makes such a COPY reject instead of hanging its
 * transaction forever (test/postgres/copy.test.ts fails if this stops working).
 */
export async function sendCopy(sql: Session, target: string, columns: readonly string[], text: string | Iterable<string>): Promise<SentCopy> {
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
  if (typeof text === "string") {
    stream.end(text);
  } else {
    for (const chunk of text) {
      if (!stream.write(chunk)) await Promise.race([once(stream, "drain"), finished, failed]);
    }
    stream.end();
  }
  const stored = Promise.race([finished, failed]);
  stored.catch(() => {}); // the caller awaits it after its own work; a refusal meanwhile is not unhandled
  return { stored };
}

/** {@link sendCopy}, awaited until the server has stored the rows. */
export async function copyInto(sql: Session, target: string, columns: readonly string[], text: string | Iterable<string>): Promise<void> {
  await (await sendCopy(sql, target, columns, text)).stored;
}
