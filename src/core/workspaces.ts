import type { GitFailure } from '../domain/gitFailure.ts';
import { KeyedQueue } from './keyedQueue.ts';

/** Changes that may wait behind the running one per consumer; more are refused (memory stays flat). */
export const MAX_WAITING_CHANGES = 50;
import type { ConsumerSpec } from './topology.ts';

/** The git operations core needs from a consumer's clone (implemented by infra/git/consumerRepo.ts). */
export interface ConsumerRepoPort {
  resetToRemote(): Promise<void>;
  readFile(relPath: string): Promise<string | null>;
  isIgnored(relPath: string): Promise<boolean>;
  /** Writes and commits the file on the remote tip; returns the new commit and the tip it was made on. */
  commitFile(relPath: string, text: string, commit: { message: string; author: Identity; committer: Identity }): Promise<{ commit: string; parent: string }>;
  push(target: string, opts?: { force?: boolean }): Promise<{ pushed: true } | { pushed: false; reason: 'remote-moved' }>;
  /** Whether the remote branch `target` holds the commit (fetches it; false when the branch is gone). */
  containsCommit(target: string, commit: string): Promise<boolean>;
  /** Files on the remote branch as they are now (null when absent), without touching the work clone. */
  readRemoteFiles(relPaths: readonly string[]): Promise<(string | null)[]>;
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

/** The consumer's repository could not be read or written: git's failure, classified, for the user. */
export class RepoAccessError extends Error {
  constructor(
    message: string,
    readonly failure: GitFailure,
  ) {
    super(message);
    this.name = 'RepoAccessError';
  }
}

export interface Identity {
  name: string;
  email: string;
}

type Files = (string | null)[];

/** Reads of one consumer's files: at most one running and one waiting (which later callers join). */
interface ReadSlot {
  running: Promise<Files> | null;
  waiting: Promise<Files> | null;
}

/** Runs `fn` while no other process changes the consumer (a database lock with several replicas). */
export type ConsumerLock = <T>(consumer: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Each consumer has one clone. Changes (adopt, unpin) go through `use`, one task at a time per
 * consumer (across processes too, with `lock`), different consumers in parallel. Reads go through `readRemote`, which never waits
 * behind a change: they have their own fetch, shared by everyone asking at the same time.
 */
export class ConsumerWorkspaces {
  private readonly queue = new KeyedQueue(MAX_WAITING_CHANGES);
  private readonly reads = new Map<string, ReadSlot>();

  constructor(
    private readonly repoFor: (consumer: ConsumerSpec) => ConsumerRepoPort,
    private readonly lock: ConsumerLock = (_consumer, fn) => fn(),
  ) {}

  /**
   * Runs `task` on the consumer's clone after its earlier changes: the local queue first, then the
   * cross-process lock (one connection waits per consumer, not one per request). Rejects with
   * QueueFullError when too many wait.
   */
  use<T>(consumer: ConsumerSpec, task: (repo: ConsumerRepoPort) => Promise<T>): Promise<T> {
    return this.queue.run(consumer.name, () => this.lock(consumer.name, () => task(this.repoFor(consumer))));
  }

  /**
   * The files as they are on the remote now. A caller never gets an answer fetched before it
   * asked: it joins the fetch that starts next (one waiting slot per consumer), so N concurrent
   * readers cost at most two fetches, and memory does not grow with N.
   */
  readRemote(consumer: ConsumerSpec, relPaths: readonly string[]): Promise<Files> {
    const key = `${consumer.name}\0${relPaths.join('\0')}`;
    let slot = this.reads.get(key);
    if (!slot) this.reads.set(key, (slot = { running: null, waiting: null }));
    if (!slot.running && !slot.waiting) return this.startRead(key, slot, consumer, relPaths);
    if (slot.waiting) return slot.waiting;
    const s = slot;
    const waiting = s.running!.then(noop, noop).then(() => {
      s.waiting = null;
      return this.startRead(key, s, consumer, relPaths);
    });
    s.waiting = waiting;
    return waiting;
  }

  private startRead(key: string, slot: ReadSlot, consumer: ConsumerSpec, relPaths: readonly string[]): Promise<Files> {
    const read = Promise.resolve().then(() => this.repoFor(consumer).readRemoteFiles(relPaths));
    slot.running = read;
    const done = () => {
      if (slot.running === read) slot.running = null;
      if (!slot.running && !slot.waiting && this.reads.get(key) === slot) this.reads.delete(key);
    };
    read.then(done, done);
    return read;
  }

  /** Resolves when queued work has finished (graceful shutdown). */
  async drain(): Promise<void> {
    await this.queue.drain();
    while (this.reads.size) {
      await Promise.all([...this.reads.values()].flatMap((s) => [s.running, s.waiting]).map((p) => p?.then(noop, noop)));
    }
  }
}

function noop(): void {}
