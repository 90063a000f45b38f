// What start-up opened, closed in reverse order by one call: a failed start and a stop take the
// same path, so no teardown sequence is written twice. A step that fails is logged and the
// rest still run (the lock must be freed even when the state cannot be closed cleanly).

export interface ResourceLog {
  error(obj: object, msg: string): void;
}

export class ResourceStack {
  private readonly steps: { name: string; close: () => unknown }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: ResourceLog) {}

  /** Runs `close` when the stack is closed, before everything deferred earlier. */
  defer(name: string, close: () => unknown): void {
    this.steps.push({ name, close });
  }

  /** Closes everything once (later calls join the first). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
        try {
          await step.close();
        } catch (error) {
          this.log.error({ err: error, step: step.name }, `stopping: ${step.name} failed`);
        }
      }
    })();
    return this.closing;
  }
}
