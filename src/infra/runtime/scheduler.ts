import cron from 'node-cron';

export interface ScheduledJob {
  stop(): Promise<void>;
}

/** Runs `task` on a node-cron expression; a run still going when the next is due is skipped. */
export function schedule(expression: string, task: () => Promise<unknown>, onError: (error: unknown) => void, name = 'smvbot-scan'): ScheduledJob {
  const job = cron.schedule(
    expression,
    async () => {
      try {
        await task();
      } catch (error) {
        onError(error);
      }
    },
    { noOverlap: true, name },
  );
  return {
    async stop() {
      await job.stop();
      await job.destroy();
    },
  };
}

/** Runs `task` every `ms` without keeping the process alive; returns what stops it. */
export function every(ms: number, task: () => void): () => void {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
}
