/**
 * Runs tasks one at a time per key, in arrival order; different keys run in parallel.
 * Used so two changes for one consumer never race on its clone or its branch.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, { tail: Promise<unknown>; waiting: number }>();

  /** `maxWaiting`: how many tasks may wait behind the running one per key before `run` refuses. */
  constructor(private readonly maxWaiting = Number.POSITIVE_INFINITY) {}

  /** Runs `task` after the key's earlier tasks; rejects with QueueFullError (running nothing) when too many wait. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const entry = this.tails.get(key);
    if (entry && entry.waiting >= this.maxWaiting) return Promise.reject(new QueueFullError(key, entry.waiting));
    const previous = entry?.tail ?? Promise.resolve();
    const slot = entry ?? { tail: previous, waiting: 0 };
    // Everything queued behind a running task counts as waiting until its own turn starts.
    if (entry) slot.waiting++;
    const started = entry ? () => slot.waiting-- : () => undefined;
    const result = previous.then(
      () => (started(), task()),
      () => (started(), task()),
    );
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    slot.tail = tail;
    this.tails.set(key, slot);
    // Forget idle keys so the map does not grow with every consumer ever seen.
    void tail.then(() => {
      if (this.tails.get(key)?.tail === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when everything queued so far has settled (used on shutdown). */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()].map((e) => e.tail));
  }
}

/** Too many tasks already wait for this key: nothing was queued. */
export class QueueFullError extends Error {
  constructor(
    readonly key: string,
    readonly waiting: number,
  ) {
    super(`${waiting} changes already wait for ${key}`);
    this.name = 'QueueFullError';
  }
}
