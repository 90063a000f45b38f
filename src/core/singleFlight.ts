/** Runs one task at a time: a call while one runs joins it instead of starting another. */
export class SingleFlight<T> {
  private running: Promise<T> | null = null;

  run(task: () => Promise<T>): Promise<T> {
    this.running ??= task().finally(() => (this.running = null));
    return this.running;
  }

  /** Resolves when no task runs (its failure went to whoever asked for it). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }
}
