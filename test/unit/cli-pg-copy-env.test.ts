/** `TALLY_PG_COPY` (src/cli/open-postgres.ts): unset leaves it to the store (on, off behind a pooler); 1/0 and the like say; anything unknown is a CliError. */
import { describe, expect, test } from "bun:test";
import { CliError } from "../../src/cli/errors.ts";
import { copyFromEnv } from "../../src/cli/open-postgres.ts";

describe("TALLY_PG_COPY", () => {
  test("unset or empty: the store decides", () => {
    expect([copyFromEnv({}), copyFromEnv({ TALLY_PG_COPY: "" })]).toEqual([undefined, undefined]);
  });
  test("1/true/on and 0/false/off, any case and spacing", () => {
    expect(["1", "true", "ON", " on "].map((v) => copyFromEnv({ TALLY_PG_COPY: v }))).toEqual([true, true, true, true]);
    expect(["0", "false", "OFF", " Off"].map((v) => copyFromEnv({ TALLY_PG_COPY: v }))).toEqual([false, false, false, false]);
  });
  test("anything else is a CliError naming the value (cut at 32 characters)", () => {
    for (const value of ["yes", "2", "no", "x".repeat(500), "0; DROP TABLE x"]) {
      expect(() => copyFromEnv({ TALLY_PG_COPY: value })).toThrow(CliError);
    }
    expect(() => copyFromEnv({ TALLY_PG_COPY: "x".repeat(500) })).toThrow(`not '${"x".repeat(32)}'`);
  });
});
