/**
 * Tally's name filters are defined once (`src/report/glob.ts`); each store renders them in its
 * own pattern language. SQLite's rendering must match exactly what the definition says, for
 * every pattern, including the characters GLOB treats specially.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { matchesGlob, parseGlob, toSqliteGlob } from "../../src/report/glob.ts";
import { rng } from "../fixtures/claude-code/generate-transcripts.ts";

const matches = (pattern: string, text: string) => matchesGlob(parseGlob(pattern), text);

describe("the definition", () => {
  test("*, ?, classes, negation, ranges, escapes; case-sensitive; anchored", () => {
    expect(matches("acme/*", "acme/api")).toBe(true);
    expect(matches("acme/*", "acme/")).toBe(true);
    expect(matches("acme/*", "other/acme/api")).toBe(false);
    expect(matches("claude-?-4", "claude-x-4")).toBe(true);
    expect(matches("claude-?-4", "claude--4")).toBe(false);
    expect(matches("claude-[so]*", "claude-sonnet")).toBe(true);
    expect(matches("claude-[so]*", "claude-haiku")).toBe(false);
    expect(matches("claude-[!so]*", "claude-haiku")).toBe(true);
    expect(matches("claude-[^so]*", "claude-opus")).toBe(false);
    expect(matches("v[0-9]", "v7")).toBe(true);
    expect(matches("v[0-9]", "vx")).toBe(false);
    expect(matches("Acme/*", "acme/api")).toBe(false);
    expect(matches("a\\*b", "a*b")).toBe(true);
    expect(matches("a\\*b", "axb")).toBe(false);
    expect(matches("a[b", "a[b")).toBe(true); // a [ never closed is itself
    expect(matches("[]]", "]")).toBe(true); // ] first in a class belongs to it
    expect(matches("%_", "%_")).toBe(true); // LIKE's wildcards are nothing special here
    expect(matches("%_", "ab")).toBe(false);
    expect(matches("é*", "élan")).toBe(true);
  });
});

describe("SQLite's GLOB rendering", () => {
  test("agrees with the definition on random patterns and names, special characters included", () => {
    const db = new Database(":memory:");
    const glob = db.query("SELECT ? GLOB ? AS m");
    const random = rng(7);
    const pick = (chars: string) => chars[Math.floor(random() * chars.length)]!;
    let checked = 0;
    for (let i = 0; i < 4000; i++) {
      const pattern = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick("ab*?[]!^-\\ab")).join("");
      const text = Array.from({ length: Math.floor(random() * 5) }, () => pick("ab*?[]^-\\")).join("");
      const parsed = parseGlob(pattern);
      const expected = matchesGlob(parsed, text);
      const actual = Number((glob.get(text, toSqliteGlob(parsed)) as { m: number }).m) === 1;
      if (actual !== expected) throw new Error(`pattern ${JSON.stringify(pattern)} (GLOB ${JSON.stringify(toSqliteGlob(parsed))}) on ${JSON.stringify(text)}: SQLite ${actual}, definition ${expected}`);
      checked++;
    }
    expect(checked).toBe(4000);
    db.close();
  });
});
