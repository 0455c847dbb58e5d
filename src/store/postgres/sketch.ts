/** A duration sketch as PostgreSQL keeps it: an `int4[]` literal of (bucket, count) pairs in bucket order. */
export function encodePairs(buckets: ReadonlyMap<number, number>): string {
  const pairs: number[] = [];
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    const count = buckets.get(bucket)!;
    if (count !== 0) pairs.push(bucket, count); // a delta: negative when a replaced snapshot is taken out
  }
  return `{${pairs.join(",")}}`;
}
