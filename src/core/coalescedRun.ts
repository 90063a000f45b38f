/**
 * Runs its pass one at a time: a trigger while one runs queues exactly one more pass after it
 * (however many triggers came) and resolves with the last pass's result.
 */
export abstract class CoalescedRun<T> {
  private running: Promise<T> | null = null;
  private again = false;

  /** One pass (a scan, a delivery). */
  protected abstract pass(): Promise<T>;

  /** Start a pass, or join the one running (and queue one more after it). */
  trigger(): Promise<T> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Whether a pass is running. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    // A pass's failure goes to whoever triggered it; here it only has to have ended.
    while (this.running) await this.running.catch(() => undefined);
  }

  private async loop(): Promise<T> {
    let result: T;
    do {
      this.again = false;
      result = await this.pass();
    } while (this.again);
    return result;
  }
}
