/**
 * The delivery ids already accepted. GitHub redelivers with the same `X-GitHub-Delivery`
 * (a manual redeliver, a timeout on our side), and each delivery must be reviewed once.
 * Bounded: the oldest ids are forgotten past `capacity`; a restart forgets them all.
 */
export class DeliveryLog {
  readonly #seen = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** True the first time an id is seen; false for a duplicate. */
  accept(deliveryId: string): boolean {
    if (this.#seen.has(deliveryId)) return false;
    this.#seen.add(deliveryId);
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }
}
