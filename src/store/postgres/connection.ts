import { connect, type Socket } from "node:net";
import type { Options, Sql, TransactionSql } from "postgres";
import { isConnectionError } from "./errors.ts";

/** The postgres.js factory, loaded only when a PostgreSQL store is opened (an optional peer). */
type PostgresFactory = (url: string, options: Options<Record<string, never>>) => Sql;

/** What a PostgreSQL store connects with. */
export interface ConnectionSettings {
  url: string;
  /**
   * A search_path for the whole session, for tools connected straight to the server
   * (benchmarks). The store sets none: see `inSchemaTransaction`.
   */
  sessionSchema?: string;
  /** Connections in the pool. */
  maxConnections: number;
  connectTimeoutSeconds: number;
  /** Named prepared statements (false behind a pooler in transaction mode that cannot keep them). @default true */
  prepare?: boolean;
}

/**
 * A pool of connections whose rows look like SQLite's: `bigint` and `numeric` (what `sum()`
 * of a bigint gives) arrive as JavaScript numbers, as epoch milliseconds and token counts fit
 * in a double exactly. Sockets have Nagle off: with it on, a write stalls ~40–90 ms waiting
 * for an ACK (PERFORMANCE.md).
 */
export async function openPool(settings: ConnectionSettings): Promise<Sql> {
  let factory: PostgresFactory;
  try {
    factory = ((await import("postgres")) as unknown as { default: PostgresFactory }).default;
  } catch (error) {
    throw new Error("the PostgreSQL store needs the `postgres` package: npm install postgres", { cause: error });
  }
  const unixSocket = new URL(settings.url).searchParams.has("host");
  return factory(settings.url, {
    max: settings.maxConnections,
    prepare: settings.prepare ?? true,
    connect_timeout: settings.connectTimeoutSeconds,
    idle_timeout: 60,
    onnotice: () => {},
    // No search_path here: a pooler in transaction mode refuses it at connect (PgBouncer) or
    // keeps no session setting past a transaction. Each transaction sets it (`inSchemaTransaction`).
    connection: { application_name: "tally", ...(settings.sessionSchema === undefined ? {} : { search_path: settings.sessionSchema }) },
    types: {
      bigint: { to: 20, from: [20, 1700], serialize: (value: unknown) => String(value), parse: (value: string) => Number(value) },
    } as never,
    ...(unixSocket ? {} : { socket: noDelaySocket }),
  });
}

/**
 * Whether a connection pooler answers instead of PostgreSQL itself: PgBouncer and its kind
 * hand clients a cancel key of their own, so the process id in it is not the server
 * process's that runs the statement (directly, they are the same).
 */
export async function isBehindPooler(sql: Sql): Promise<boolean> {
  const rows = (await sql.unsafe("SELECT pg_backend_pid() AS pid")) as unknown as { pid: number }[] & { state?: { pid?: number } };
  return rows.state?.pid !== Number(rows[0]?.pid);
}

/** A connected TCP socket with TCP_NODELAY set (postgres.js takes it as is). */
function noDelaySocket(options: { host: string[]; port: number[] }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host[0], port: options.port[0]!, noDelay: true });
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * {@link transaction}, with `schema` on the transaction's search_path: a `SET LOCAL` sent just
 * ahead of work's first statement, without waiting for its answer (no round trip). Every
 * statement that names Tally's tables unqualified runs inside one: a pooler in transaction mode
 * (PgBouncer, the poolers of managed PostgreSQL) hands each transaction whichever server
 * connection is free, so a setting made at connect would not follow it.
 */
export function inSchemaTransaction<T>(sql: Pick<Sql, "begin">, schema: string, mode: string, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return transaction(sql, mode, (tx) => {
    // A failed SET aborts the transaction, and work's first statement reports that.
    tx.unsafe(`SET LOCAL search_path TO "${schema}"`).execute().catch(() => {});
    return work(tx);
  });
}

/** One statement in a transaction of its own with `schema` on its search_path ({@link inSchemaTransaction}). */
export function inSchemaStatement(sql: Pick<Sql, "begin">, schema: string, text: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[] & { count: number }> {
  return inSchemaTransaction(sql, schema, "", (tx) => tx.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[] & { count: number }>);
}

/** Schema names are identifiers written into SQL: an allow-list of shapes, never quoted input. */
export function checkSchemaName(schema: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(schema);
}

/**
 * `sql.begin(mode, work)`, safe when the connection dies mid-transaction. postgres.js (3.4.x)
 * answers a failed transaction with a ROLLBACK, and on a closed connection that ROLLBACK is
 * written on a later tick to a socket that is gone: a TypeError nothing can catch, and the
 * process dies (porsager/postgres#1066, #1154, #1208) — the agent Tally must never break. So
 * when `work` fails because the connection went, no ROLLBACK is asked for (the server rolls
 * back a transaction whose connection ended): `work`'s promise is left unsettled, and `begin`
 * rejects on its own when the connection closes — or, should it never close, this rejects
 * with `work`'s error after `abandonAfterMs`, so a write never hangs. Savepoints would have
 * the same flaw; the store uses none. Other failures roll back as usual.
 */
export async function transaction<T>(sql: Pick<Sql, "begin">, mode: string, work: (tx: TransactionSql) => Promise<T>, abandonAfterMs = 10_000): Promise<T> {
  let abandon: (error: unknown) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => (abandon = reject));
  const run = sql.begin(mode, async (tx) => {
    try {
      return await work(tx);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      setTimeout(() => abandon(error), abandonAfterMs).unref?.();
      return new Promise<never>(() => {});
    }
  });
  return (await Promise.race([run, abandoned])) as T;
}
