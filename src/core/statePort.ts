import type {
  AdoptionFilter,
  AdoptionIntent,
  AdoptionRecord,
  AdoptionSettlement,
  AnnouncementRecord,
  AnnouncementStatus,
  AnnouncementTask,
  Deprecation,
  DeprecationNoticeKey,
  Freeze,
  NewVersion,
  QueuedCommand,
  Subscription,
  VersionRecord,
} from '../domain/records.ts';

/** A combined announcement's place in its burst ("part 2 of 3" of `total` versions). */
export interface MessageLayout {
  part: number;
  parts: number;
  total: number;
}

/** Where one announcement lives. */
export interface AnnouncementKey {
  publisher: string;
  version: string;
  channel: string;
}

/** One entry of a stage's version list, as answers need it (no module list). */
export interface VersionSummary {
  publisher: string;
  version: string;
  stages: string[];
  moduleCount: number;
  bytes: number;
  completedAt: string;
  removed: boolean;
}

/**
 * The one port through which core reads and changes what the bot remembers (SPEC §6).
 * Every method that changes something is one transaction: it happens whole or not at all.
 * A change that cannot be written rejects with StateUnwritableError and leaves state as it was.
 */
export interface StatePort {
  /** Which database: the embedded one (one process) or PostgreSQL (several replicas). */
  readonly kind: 'sqlite' | 'postgresql';
  /** What to name in messages: the database file (or a URL without credentials). */
  readonly location: string;

  /** Set after the first completed scan. */
  initializedAt(): Promise<string | null>;
  markInitialized(at: string): Promise<void>;

  /** Whether the publisher was ever scanned (a first sight records its history silently). */
  publisherKnown(publisher: string): Promise<boolean>;
  /** Tells `visit` every recorded version of the publisher and whether its dir has disappeared (no list is built: 100,000 names). */
  eachKnownVersion(publisher: string, visit: (version: string, removed: boolean) => void): Promise<void>;
  /**
   * Record newly complete versions and their announcements in `channels` and in every channel
   * subscribed to one of the version's stages (or to `*`), all or nothing: `pending`, or `silent`
   * on a publisher's first sight (its history is not announced).
   */
  recordVersions(publisher: string, versions: readonly NewVersion[], opts: { channels: readonly string[]; silent: boolean; at: string }): Promise<void>;
  /** Versions whose dir disappeared (`at`) or came back (null). */
  markRemoved(publisher: string, versions: readonly string[], at: string | null): Promise<void>;
  getVersion(publisher: string, version: string): Promise<VersionRecord | undefined>;
  /** A stage's versions, newest completion first; removed ones only when asked. */
  versionsOfStage(stage: string, opts: { includeRemoved: boolean; limit?: number }): Promise<VersionSummary[]>;
  /** How many versions hold the stage and are still published. */
  countPublishedOfStage(stage: string): Promise<number>;
  countVersions(): Promise<number>;

  /** Pending announcements of versions still published, oldest completion first. */
  pendingAnnouncements(limit?: number): Promise<AnnouncementTask[]>;
  /**
   * pending → in_flight (attempts + 1) for each key, in one transaction (a combined message claims all
   * its versions at once); returns those claimed. A key no longer pending (someone else has it) is
   * left out; with several replicas none is claimed unless this one holds the current fencing number.
   */
  claimAnnouncements(keys: readonly AnnouncementKey[], at: string): Promise<AnnouncementKey[]>;
  /** The settlements below apply to every key at once (one message, one outcome), in one transaction. */
  /** `layout`: where a combined message sits in its burst, kept so an update can render it the same way. */
  markPosted(keys: readonly AnnouncementKey[], ts: string, at: string, layout?: MessageLayout): Promise<void>;
  /** Transient failure: back to pending for the next scan. */
  markRetry(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void>;
  markFailed(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void>;
  /** in_flight → unknown: the request may have reached Slack (its answer was lost); never re-sent blindly. Also updates an unknown one's reason. */
  markUnknown(keys: readonly AnnouncementKey[], reason: string, at: string): Promise<void>;
  /** unknown → posted: the message was found in the channel (its ts). False when it was not unknown. */
  settleUnknownAsPosted(key: AnnouncementKey, ts: string, at: string): Promise<boolean>;
  /** unknown → pending: the channel's history shows Slack does not have it, so it may be posted. */
  settleUnknownAsNotPosted(key: AnnouncementKey, note: string, at: string): Promise<boolean>;
  /** failed → pending for posts that failed at or before `failedBefore` (tried again after a restart or an hour); returns them. */
  reopenFailedPosts(failedBefore: string, at: string): Promise<AnnouncementRecord[]>;
  /**
   * Every in_flight announcement becomes `unknown` (start-up after a crash, or a new leader after
   * the old one died); returns them. With several replicas only the leader settles (else: []).
   */
  settleInterruptedPosts(reason: string, at: string): Promise<AnnouncementRecord[]>;
  /** Where a version's announcement was posted: each channel and message ts. */
  postedMessagesOf(publisher: string, version: string): Promise<{ channel: string; ts: string }[]>;
  /** What one posted message announces (several versions for a combined one), oldest completion first. */
  messageContents(channel: string, ts: string): Promise<{ versions: { publisher: string; version: VersionRecord }[]; layout: MessageLayout | null }>;
  /** Announcements in these states (for /healthz problems), newest first, bounded. */
  announcementsIn(statuses: readonly AnnouncementStatus[], limit: number): Promise<AnnouncementRecord[]>;

  recordAdoptionIntent(intent: AdoptionIntent): Promise<void>;
  /**
   * Settle an intent: `landed` adds it to the audit log; `abandoned` keeps it out. An abandoned one
   * may still become landed (its commit showed up on the remote late); nothing else changes a settled one.
   */
  settleAdoption(id: string, outcome: AdoptionSettlement, at: string): Promise<AdoptionRecord | null>;
  unsettledAdoptions(): Promise<AdoptionIntent[]>;
  /** Intents settled as abandoned at or after `since` (ISO), oldest first: looked for again on the remote. */
  abandonedAdoptionsSince(since: string): Promise<AdoptionIntent[]>;
  /** Landed adoptions, newest first. */
  adoptions(filter?: AdoptionFilter): Promise<AdoptionRecord[]>;
  /**
   * Runs `fn` while no other process runs one for the same consumer (adopts, unpins and their
   * reconciliation, which push to its branch). SQLite: `fn` as is, one process holds the data dir.
   */
  withConsumerLock<T>(consumer: string, fn: () => Promise<T>): Promise<T>;

  /** Marks a stage's version deprecated; false (and the first deprecation kept) when it already was. */
  deprecate(deprecation: Deprecation): Promise<boolean>;
  /** Takes a deprecation back (and forgets whom it was told, so a new one is told again); false when there was none. */
  undeprecate(stage: string, version: string): Promise<boolean>;
  /** The stage's deprecated versions, newest deprecation first. */
  deprecationsOf(stage: string): Promise<Deprecation[]>;
  /** Claims one deprecation notice; false when it was claimed before (it is told once). */
  claimDeprecationNotice(key: DeprecationNoticeKey, at: string): Promise<boolean>;

  /** Adds a channel's subscription; false when it existed. Versions recorded afterwards are announced there too. */
  subscribe(subscription: Subscription): Promise<boolean>;
  /** False when there was no such subscription. */
  unsubscribe(channel: string, stage: string): Promise<boolean>;
  /** A channel's subscriptions, oldest first. */
  subscriptionsOf(channel: string): Promise<Subscription[]>;

  /** The consumer's freeze as stored, null when none: it may have ended (compare `until` with the clock at each check). */
  freezeOf(consumer: string): Promise<Freeze | null>;
  /** Sets the consumer's freeze, replacing any; returns the one it replaced (null: none). */
  setFreeze(freeze: Freeze): Promise<Freeze | null>;
  /** Removes the consumer's freeze; returns it (null: there was none). */
  removeFreeze(consumer: string): Promise<Freeze | null>;

  /** Writes a command before Slack gets its ack; a second one with the same id is ignored. */
  enqueueCommand(command: Omit<QueuedCommand, 'attempts'>): Promise<void>;
  /**
   * Takes up to `limit` commands for `owner` until `leaseUntil`: the oldest pending command of each
   * queue whose lease has run out by `at` (a worker that died), attempts + 1.
   */
  claimCommands(owner: string, at: string, leaseUntil: string, limit: number): Promise<QueuedCommand[]>;
  /** Extends the leases `owner` still holds; returns the ids it holds. */
  renewCommandLeases(owner: string, ids: readonly string[], leaseUntil: string): Promise<string[]>;
  /** Marks a command done (answered, or given up); false when `owner` no longer held it. */
  finishCommand(id: string, owner: string, outcome: string, at: string): Promise<boolean>;
  /** Deletes commands finished before `finishedBefore` (they are done and answered); returns how many. */
  forgetFinishedCommands(finishedBefore: string): Promise<number>;
  /** How many commands wait or run, and when the oldest was received. */
  commandBacklog(): Promise<{ pending: number; oldestReceivedAt: string | null }>;

  /** Why the last change could not be written, while none has been written since; else null. */
  writeProblem(): string | null;
  /**
   * Why the store cannot be used at all until an operator acts (its file deleted, replaced or
   * corrupt under the running bot), with what to do; null while it can be used.
   */
  unavailable?(): string | null;
  /** A tiny change, to learn whether the state can be written again (after a full disk). */
  probeWrite(at: string): Promise<void>;

  close(): Promise<void>;
}

/** A state file that exists but cannot be read; it has not been touched. */
export class StateCorruptError extends Error {
  readonly code = 'state-corrupt';
  constructor(
    readonly file: string,
    readonly detail: string,
    advice = `Restore it from a backup, or move it aside (mv ${file} ${file}.broken) to start with empty state ` +
      `(versions already published are then recorded again without being re-announced), and start smvbot again.`,
  ) {
    super(`The state file ${file} cannot be used: ${detail}. smvbot has not changed it. ${advice}`);
    this.name = 'StateCorruptError';
  }
}

/** A change could not be written (disk full, read-only, I/O error); nothing of it was applied. */
export class StateUnwritableError extends Error {
  readonly code = 'state-unwritable';
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`Cannot write the state in ${location}: ${detail}. The change was rolled back.`);
    this.name = 'StateUnwritableError';
  }
}

/**
 * The state store cannot be used at all right now: PostgreSQL unreachable, or the SQLite file
 * deleted, replaced or corrupt under the running bot. Nothing of the change was applied.
 */
export class StateUnavailableError extends Error {
  readonly code = 'state-unavailable';
  constructor(
    readonly location: string,
    readonly detail: string,
    /** What an operator does about it. */
    readonly fix: string,
  ) {
    super(`The state store ${location} is unavailable: ${detail}. ${fix}`);
    this.name = 'StateUnavailableError';
  }
}

/**
 * A change that reached the consumer's remote (a pushed pin) could not be recorded because the
 * state store failed: the push stands; the reconciliation records it once the store is back.
 */
export class ChangeUnrecordedError extends Error {
  readonly code = 'change-unrecorded';
  constructor(
    readonly stateError: StateUnavailableError | StateUnwritableError,
    /** The commit that landed. */
    readonly commit: string,
  ) {
    super(`commit ${commit.slice(0, 12)} landed but could not be recorded: ${stateError.message}`);
    this.name = 'ChangeUnrecordedError';
  }
}

/**
 * What to tell a person whose command met a state store the bot could not use (and that nothing
 * was changed, or what was); null for any other error.
 */
export function stateTroubleAnswer(error: unknown): string | null {
  if (error instanceof ChangeUnrecordedError) {
    return (
      `The pin was pushed (commit ${error.commit.slice(0, 12)}), but the bot's state store is unavailable (${error.stateError.detail}), ` +
      'so it is not in `/smv history` yet: it is recorded by itself once the store is back. Do not adopt it again.'
    );
  }
  if (error instanceof StateUnavailableError) {
    return `The bot's state store (${error.location}) is unavailable right now: ${error.detail}. Nothing was changed. ${error.fix}`;
  }
  if (error instanceof StateUnwritableError) {
    return `The bot's state store (${error.location}) cannot be written right now: ${error.detail}. Nothing was changed. Try again in a few minutes; an admin sees the problem in /healthz.`;
  }
  return null;
}
