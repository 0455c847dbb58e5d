/**
 * Durations kept as log-scale bucket counts (as DDSketch does), so that percentiles can be
 * answered from daily rollups instead of scanning raw rows. With a growth factor of 1.1 a
 * bucket's representative value is within ±4.8 % of every duration in it; one day of
 * durations spans about 190 buckets.
 */
const GAMMA = 1.1;
const LOG_GAMMA = Math.log(GAMMA);

/** Relative error bound of a percentile read from buckets. */
export const BUCKET_RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);

/** Bucket of a duration in ms: 0 holds durations under 1 ms; bucket i holds (γ^(i-1), γ^i]. */
export function durationBucket(durationMs: number): number {
  if (!(durationMs >= 1)) return 0;
  return Math.max(1, Math.ceil(Math.log(durationMs) / LOG_GAMMA - 1e-9));
}

/** The value a bucket stands for: the point of least relative error within it. */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return (2 * GAMMA ** bucket) / (GAMMA + 1);
}

/**
 * A sketch as stored in a rollup row: little-endian uint32 pairs (bucket, count), sorted by
 * bucket. A day of one group holds a few dozen pairs, a few hundred bytes.
 */
export function encodeBuckets(counts: ReadonlyMap<number, number>): Uint8Array {
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  const out = new Uint8Array(buckets.length * 8);
  const view = new DataView(out.buffer);
  buckets.forEach((bucket, i) => {
    view.setUint32(i * 8, bucket, true);
    view.setUint32(i * 8 + 4, Math.min(counts.get(bucket)!, 0xffffffff), true);
  });
  return out;
}

/**
 * The little-endian uint32 at `offset`, read byte by byte: a DataView asks for the array's
 * buffer, which cost more than the reading.
 */
const uint32At = (bytes: Uint8Array, offset: number) =>
  (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;

/**
 * Each (bucket, count) of a stored sketch: SQLite's bytes (above), or PostgreSQL's `int4[]` of
 * pairs, which the database merges itself. Skips anything malformed.
 */
function forEachPair(encoded: unknown, visit: (bucket: number, count: number) => void): void {
  if (Array.isArray(encoded)) {
    for (let i = 0; i + 1 < encoded.length; i += 2) {
      const bucket = Number(encoded[i]);
      const count = Number(encoded[i + 1]);
      if (Number.isInteger(bucket) && count > 0) visit(bucket, count);
    }
    return;
  }
  if (!(encoded instanceof Uint8Array) || encoded.length % 8 !== 0) return;
  for (let o = 0; o < encoded.length; o += 8) visit(uint32At(encoded, o), uint32At(encoded, o + 4));
}

/** Adds a stored sketch (see `forEachPair`) into `into`. */
export function addEncodedBuckets(into: Map<number, number>, encoded: unknown): void {
  forEachPair(encoded, (bucket, count) => into.set(bucket, (into.get(bucket) ?? 0) + count));
}

/** Buckets a sketch can hold: durations up to 1.1^1023 ms; a larger stored bucket is malformed. */
const MAX_BUCKETS = 1024;

/**
 * Bucket counts being merged for a report: an array indexed by bucket (merging thousands of
 * sketches into maps was most of a report's time). Counts may be taken away as well as added
 * (a whole day read, less the hours outside the range); what is left is never below zero.
 */
export class DurationCounts {
  private counts = new Float64Array(256);

  /** Adds `sign` × each (bucket, count) of a stored sketch (see `forEachPair`); skips anything malformed. */
  addEncoded(encoded: unknown, sign: number): void {
    if (!(encoded instanceof Uint8Array)) return forEachPair(encoded, (bucket, count) => this.add(bucket, sign * count));
    // SQLite's bytes, read in this loop rather than through `forEachPair`'s callback: a
    // report merges tens of thousands of sketches, and the call per pair was most of it.
    if (encoded.length % 8 !== 0) return;
    for (let o = 0; o < encoded.length; o += 8) {
      const bucket = uint32At(encoded, o);
      const count = uint32At(encoded, o + 4);
      if (bucket < this.counts.length) this.counts[bucket]! += sign * count;
      else this.add(bucket, sign * count);
    }
  }

  /** Adds every count of `other`. */
  addCounts(other: DurationCounts): void {
    if (other.counts.length > this.counts.length) this.grow();
    other.counts.forEach((count, bucket) => {
      if (count !== 0) this.counts[bucket]! += count;
    });
  }

  /** Adds `count` (negative: takes away) to `bucket`. */
  add(bucket: number, count: number): void {
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= MAX_BUCKETS) return;
    if (bucket >= this.counts.length) this.grow();
    this.counts[bucket]! += count;
  }

  /** Room for every bucket a sketch can hold (most reports never need more than the first 256). */
  private grow(): void {
    const grown = new Float64Array(MAX_BUCKETS);
    grown.set(this.counts);
    this.counts = grown;
  }

  /** The q-quantile (0..1) of the durations counted, by nearest rank; null when empty. */
  quantile(q: number): number | null {
    let total = 0;
    for (const count of this.counts) if (count > 0) total += count;
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    let last = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      const count = this.counts[bucket]!;
      if (count <= 0) continue;
      seen += count;
      last = bucket;
      if (seen >= rank) return bucketValue(bucket);
    }
    return bucketValue(last);
  }
}
