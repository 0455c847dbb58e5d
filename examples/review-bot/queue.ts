import type { Logger } from "../../src/index.ts";

/**
 * Runs jobs one at a time per repository: two reviews of the same repository never race
 * each other, while different repositories proceed concurrently.
 */
export class RepoQueue {
  /** The tail of each repository's chain; removed when the repository goes quiet. */
  readonly #tails = new Map<string, Promise<void>>();
  #pending = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(private readonly logger: Logger) {}

  /** Queues `job` behind the repository's earlier jobs. A job that throws is logged; the chain goes on. */
  enqueue(repo: string, job: () => Promise<void>): void {
    this.#pending++;
    const previous = this.#tails.get(repo) ?? Promise.resolve();
    const tail = previous.then(job).catch((error: unknown) => {
      this.logger.error({ repo, error: String(error) }, "review-bot: job failed");
    }).finally(() => {
      if (this.#tails.get(repo) === tail) this.#tails.delete(repo);
      this.#pending--;
      if (this.#pending === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
    this.#tails.set(repo, tail);
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once every queued job has finished (at once when none is queued). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
