import { describe, expect, test } from "bun:test";
import { add, Groups } from "../../src/store/rollup-sums.ts";

describe("rollup groups of a batch", () => {
  test("keys whose parts differ stay apart, whatever characters the parts hold; sums and sketches add up", () => {
    const groups = new Groups();
    add(groups, ["a\u0000b", "c"], [1, 10], 5);
    add(groups, ["a", "b\u0000c"], [1, 20], 5);
    add(groups, ["a\u0000b", "c"], [1, 30], 500);
    add(groups, ["a", "b\u0000c"], [1, 40], 5, -1);
    expect(groups.size).toBe(2);
    const byKey = new Map([...groups.values()].map((g) => [g.key.join("|"), g]));
    expect(byKey.get("a\u0000b|c")!.sums).toEqual([2, 40]);
    expect(byKey.get("a|b\u0000c")!.sums).toEqual([2, 60]);
    expect([...byKey.get("a\u0000b|c")!.buckets.values()]).toEqual([1, 1]);
    expect([...byKey.get("a|b\u0000c")!.buckets.values()]).toEqual([0]); // one run in, one taken back out
    expect(new Set([...groups].map((g) => g.id)).size).toBe(2);
  });
});
