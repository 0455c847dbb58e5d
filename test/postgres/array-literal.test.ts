/**
 * The store's array literals (src/store/postgres/array-literal.ts), read back by a real
 * server: text with quotes, backslashes, braces, commas, spaces, the word NULL and unicode,
 * NULLs, empty strings and arrays, integers and floats come back as they went in. Read element
 * by element (unnest): postgres.js's own array parser reads a NULL element back as "NULL" or NaN.
 */
import { describe, expect, test } from "bun:test";
import { arrayLiteral } from "../../src/store/postgres/array-literal.ts";
import type { ColumnValue, PgType } from "../../src/store/postgres/columns.ts";
import { rawConnection, SKIP_REASON } from "./harness.ts";

const suite = SKIP_REASON === null ? describe : describe.skip;

suite("postgres array literals", () => {
  test("every value round-trips through text[], int8[] and float8[]; an empty array is empty", async () => {
    const db = rawConnection("public");
    const back = async (values: ColumnValue[], type: PgType) =>
      (await db.unsafe(`SELECT v FROM unnest($1::${type}[]) WITH ORDINALITY AS u(v, n) ORDER BY n`, [arrayLiteral(values, type)] as never[]))
        .map((r) => (r.v === null || type === "text" ? r.v : Number(r.v)));
    try {
      const texts = ["plain", "", 'say "hi"', "back\\slash", "\\\"", "{braces}", "a,b", " spaced ", "NULL", "null", null, "é 🦀 中文", "tab\tnew\nline", "'); DROP TABLE x; --"];
      expect(await back(texts, "text")).toEqual(texts);
      const ints = [0, -1, 9007199254740991, null, 42];
      expect(await back(ints, "int8")).toEqual(ints);
      const floats = [0.1, 1e-12, -3.5e300, 5e-324, null, 12345.678];
      expect(await back(floats, "float8")).toEqual(floats);
      expect(await back([], "text")).toEqual([]);
    } finally {
      await db.end();
    }
  });
});
