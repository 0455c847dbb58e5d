import { describe, expect, test } from "bun:test";
import { addEncodedBuckets, BUCKET_RELATIVE_ERROR, bucketValue, durationBucket, DurationCounts, encodeBuckets } from "../../src/core/duration-buckets.ts";

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe("duration buckets", () => {
  test("every duration is within the stated relative error of its bucket's value", () => {
    for (let ms = 1; ms < 1e8; ms = Math.ceil(ms * 1.013)) {
      const value = bucketValue(durationBucket(ms));
      expect(Math.abs(value - ms) / ms).toBeLessThanOrEqual(BUCKET_RELATIVE_ERROR + 1e-9);
    }
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(0.5)).toBe(0);
    expect(bucketValue(0)).toBe(0);
  });

  test("p50 and p95 from buckets stay within the error bound of the exact ones", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const durations = Array.from({ length: 20_000 }, () => Math.round(Math.exp(5 + random() * 8)));
    const counts = new DurationCounts();
    for (const d of durations) counts.add(durationBucket(d), 1);
    const sorted = [...durations].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      const approx = counts.quantile(q)!;
      expect(Math.abs(approx - exact) / exact).toBeLessThanOrEqual(BUCKET_RELATIVE_ERROR + 1e-9);
    }
    expect(new DurationCounts().quantile(0.5)).toBeNull();
  });

  test("stored sketches, bytes or int4[] pairs, add and take away exactly; malformed ones add nothing", () => {
    const day = new Map([[10, 3], [40, 2], [90, 5]]);
    const hours = new Map([[40, 2], [90, 1]]);
    const counts = new DurationCounts();
    counts.addEncoded(encodeBuckets(day), 1);
    counts.addEncoded([40, 2, 90, 1], -1); // PostgreSQL's pairs, the same as `hours`
    const expected = new DurationCounts();
    expected.add(10, 3);
    expected.add(90, 4);
    for (const q of [0.1, 0.5, 0.9, 1]) expect(counts.quantile(q)).toBe(expected.quantile(q));
    counts.addEncoded(encodeBuckets(hours), 1);
    counts.addEncoded(new Uint8Array(7), 1);
    counts.addEncoded("not a sketch", 1);
    counts.addEncoded([1.5, 3, 2, -1], 1);
    const restored = new Map<number, number>();
    addEncodedBuckets(restored, encodeBuckets(day));
    expect(restored).toEqual(day);
    expect(counts.quantile(0.5)).toBe(bucketValue(40));
  });
});
