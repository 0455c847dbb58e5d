/**
 * The PostgreSQL store's `transaction()` (src/store/postgres/connection.ts) on a stand-in for
 * postgres.js's `sql.begin`, which settles the way postgres.js does: it rolls back (and
 * rejects) when the callback's promise rejects, commits when it resolves, and rejects on its
 * own when the connection closes. Against a real server: test/postgres/copy.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { Sql, TransactionSql } from "postgres";
import { transaction } from "../../src/store/postgres/connection.ts";

/** A `begin` whose connection closes `closesAfterMs` after the start (never, when undefined); records whether a ROLLBACK was asked for. */
function fakeBegin(closesAfterMs?: number) {
  const seen = { rollbackAsked: false, committed: false };
  const sql = {
    begin: (_mode: string, fn: (tx: TransactionSql) => Promise<unknown>) =>
      new Promise((resolve, reject) => {
        fn({} as TransactionSql).then(
          (value) => {
            seen.committed = true;
            resolve(value);
          },
          (error) => {
            seen.rollbackAsked = true;
            reject(error);
          },
        );
        if (closesAfterMs !== undefined) setTimeout(() => reject(Object.assign(new Error("closed"), { code: "CONNECTION_CLOSED" })), closesAfterMs);
      }),
  } as unknown as Pick<Sql, "begin">;
  return { sql, seen };
}

const connectionLost = () => Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("resolved");
}

describe("postgres transaction()", () => {
  test("work that succeeds commits and returns its value", async () => {
    const { sql, seen } = fakeBegin();
    expect(await transaction(sql, "", async () => 42)).toBe(42);
    expect(seen).toEqual({ rollbackAsked: false, committed: true });
  });

  test("work that fails for another reason is rolled back and its error passed on", async () => {
    const { sql, seen } = fakeBegin();
    const error = await rejection(transaction(sql, "", async () => {
      throw Object.assign(new Error("duplicate key"), { code: "23505" });
    }));
    expect((error as { code: string }).code).toBe("23505");
    expect(seen.rollbackAsked).toBe(true);
  });

  test("work that fails because the connection went asks for no ROLLBACK; the closing connection's error comes back", async () => {
    const { sql, seen } = fakeBegin(5);
    const error = await rejection(transaction(sql, "", async () => {
      throw connectionLost();
    }));
    expect((error as { code: string }).code).toBe("CONNECTION_CLOSED");
    expect(seen).toEqual({ rollbackAsked: false, committed: false });
  });

  test("a connection error whose connection never closes still settles: the work's error, after the abandon delay", async () => {
    const { sql, seen } = fakeBegin();
    const error = await rejection(transaction(sql, "", async () => {
      throw connectionLost();
    }, 20));
    expect((error as { code: string }).code).toBe("57P01");
    expect(seen.rollbackAsked).toBe(false);
  });
});
