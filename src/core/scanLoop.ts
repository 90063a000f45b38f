// Who asks for scans (start-up, the schedule, file watching, the publish hook, a new leader)
// asks here: one replica scans and announces, the others answer Slack from the shared state;
// a failure that repeats (a full disk) is logged once, not on every trigger.
import type { Leadership } from './leadership.ts';
import { RecurringFailure } from './problemBoard.ts';
import type { ScanSummary } from './scanAndAnnounce.ts';

export class ScanLoop {
  private readonly failure: RecurringFailure;

  constructor(
    private readonly scanner: { trigger(opts?: { post?: boolean }): Promise<ScanSummary> },
    private readonly leadership: Pick<Leadership, 'role'>,
    log: ConstructorParameters<typeof RecurringFailure>[1],
  ) {
    this.failure = new RecurringFailure('scan', log, 'error');
  }

  /** Scans now (joins a scan running) and posts what is pending; a follower returns an empty summary. */
  now(opts: { post?: boolean } = {}): Promise<ScanSummary> {
    if (this.leadership.role() !== 'leader') return Promise.resolve({ at: new Date().toISOString(), recorded: 0, announced: 0, failedPosts: 0, pending: [], problems: [] });
    return this.scanner.trigger(opts);
  }

  /** Scans in the background; never rejects (failures are logged once while they repeat). */
  run(): Promise<void> {
    return this.now().then(
      () => this.failure.succeeded(),
      (error: unknown) => this.failure.failed(error),
    );
  }
}
