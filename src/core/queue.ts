/**
 * A fixed-capacity FIFO of (kind, value, stamp) triples kept in parallel ring arrays, so
 * that recording allocates nothing: the hot path writes three slots and moves an index.
 */
export class RingQueue<V> {
  private readonly kinds: Uint8Array;
  private readonly values: (V | undefined)[];
  private readonly stamps: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.values = new Array<V | undefined>(capacity);
    this.stamps = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends; the caller checks `size < capacity` first. */
  push(kind: number, value: V, stamp: number): void {
    let tail = this.head + this.count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.kinds[tail] = kind;
    this.values[tail] = value;
    this.stamps[tail] = stamp;
    this.count++;
  }

  /** Removes up to `max` entries from the front, handing each to `take` in order. */
  drain(max: number, take: (kind: number, value: V, stamp: number) => void): void {
    const n = Math.min(max, this.count);
    for (let i = 0; i < n; i++) {
      const at = this.head;
      const value = this.values[at] as V;
      this.values[at] = undefined; // let the record be collected once written
      this.head = at + 1 === this.capacity ? 0 : at + 1;
      this.count--;
      take(this.kinds[at] as number, value, this.stamps[at] as number);
    }
  }
}
