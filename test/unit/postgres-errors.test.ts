/** How the PostgreSQL store sorts a failed write (src/store/postgres/errors.ts `classifyPostgresError`). */
import { describe, expect, test } from "bun:test";
import { classifyPostgresError } from "../../src/store/postgres/errors.ts";

const failure = (code: string | undefined, message = "boom") => Object.assign(new Error(message), code === undefined ? {} : { code });
/** The failure kind of a classified error (classifyPostgresError never answers ok). */
const kind = (code: string | undefined) => {
  const result = classifyPostgresError(failure(code), "write");
  return result.ok ? "ok" : result.failure;
};

describe("classifyPostgresError", () => {
  test("passing conditions are retryable: connection lost, deadlock, serialization, lock timeout, too many connections, a lost prepared statement", () => {
    for (const code of ["CONNECTION_CLOSED", "ECONNREFUSED", "08006", "57P01", "40001", "40P01", "55P03", "53300", "26000", "42P05"]) {
      expect([code, kind(code)]).toEqual([code, "retryable"]);
    }
  });

  test("a value the database refused is the record's fault; anything else the store's", () => {
    for (const code of ["22021", "23505", "54000", undefined]) expect(kind(code)).toBe("rejected");
    for (const code of ["42P01", "42501"]) expect(kind(code)).toBe("failed");
  });

  test("the message names the step and the code; a lost prepared statement says what to change", () => {
    const result = classifyPostgresError(failure("26000", 'prepared statement "x1" does not exist'), "write");
    expect(!result.ok && result.error.message).toBe('write: 26000: prepared statement "x1" does not exist (behind a pooler in transaction mode, leave prepare=true out of the URL)');
    const plain = classifyPostgresError(failure("23505", "duplicate key"), "create partitions");
    expect(!plain.ok && plain.error.message).toBe("create partitions: 23505: duplicate key");
  });
});
