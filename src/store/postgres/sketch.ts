/** A duration sketch as PostgreSQL keeps it: an `int4[]` literal of (bucket, count) pairs in bucket order. */
export function encodePairs(buckets: ReadonlyMap<number, number>): string {
  const pairs: number[] = [];
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) pairs.push(bucket, buckets.get(bucket)!);
  return `{${pairs.join(",")}}`;
}
