import { KeyedQueue } from './keyedQueue.ts';
import type { ConsumerSpec } from './topology.ts';

/** The git operations core needs from a consumer's clone (implemented by infra/consumerRepo). */
export interface ConsumerRepoPort {
  resetToRemote(): Promise<void>;
  readFile(relPath: string): Promise<string | null>;
  isIgnored(relPath: string): Promise<boolean>;
  commitFile(relPath: string, text: string, commit: { message: string; author: Identity; committer: Identity }): Promise<string>;
  push(target: string, opts?: { force?: boolean }): Promise<{ pushed: true } | { pushed: false; reason: 'remote-moved' }>;
}

/**
 * A file in the consumer's repo the bot will not read or write (a symlink, something that is not
 * a regular file, too large). The message says what is wrong and what to do, for the user.
 */
export class RepoFileRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepoFileRefusedError';
  }
}

export interface Identity {
  name: string;
  email: string;
}

/**
 * Each consumer has one clone; everything that touches it (adopt, unpin, reading pins)
 * goes through here, one task at a time per consumer, different consumers in parallel.
 */
export class ConsumerWorkspaces {
  private readonly queue = new KeyedQueue();

  constructor(private readonly repoFor: (consumer: ConsumerSpec) => ConsumerRepoPort) {}

  use<T>(consumer: ConsumerSpec, task: (repo: ConsumerRepoPort) => Promise<T>): Promise<T> {
    return this.queue.run(consumer.name, () => task(this.repoFor(consumer)));
  }

  /** Resolves when queued work has finished (graceful shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}
