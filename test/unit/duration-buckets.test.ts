import { describe, expect, test } from "bun:test";
import { BUCKET_RELATIVE_ERROR, bucketValue, durationBucket, quantileFromBuckets } from "../../src/core/duration-buckets.ts";

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
    const counts = new Map<number, number>();
    for (const d of durations) counts.set(durationBucket(d), (counts.get(durationBucket(d)) ?? 0) + 1);
    const sorted = [...durations].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      const approx = quantileFromBuckets(counts, q)!;
      expect(Math.abs(approx - exact) / exact).toBeLessThanOrEqual(BUCKET_RELATIVE_ERROR + 1e-9);
    }
    expect(quantileFromBuckets(new Map(), 0.5)).toBeNull();
  });
});
