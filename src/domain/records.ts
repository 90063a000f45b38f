// What the bot remembers (SPEC §6): the records every state store keeps, whatever the database.
// Pure data, shared by core (which decides) and infra (which stores).

/**
 * One announcement of one version in one channel (SPEC §4):
 *   silent   recorded on a first sight of the publisher: never posted
 *   pending  to be posted (again, after a transient Slack error)
 *   in_flight  claimed and being sent: a crash now leaves it `unknown`, never re-sent
 *   posted   Slack stored it (`ts`)
 *   failed   Slack refused it for good (`lastError` says why); not retried by scans
 *   unknown  the answer was lost (crash or cut connection): Slack may or may not have it
 * What moves it from one to another: announcementStatus.ts.
 */
export type AnnouncementStatus = 'silent' | 'pending' | 'in_flight' | 'posted' | 'failed' | 'unknown';

export interface StoredModule {
  fqn: string;
  stage: string | null;
  bytes: number;
}

/** A complete version as recorded (no columns: diff reads them from disk). */
export interface VersionRecord {
  publisher: string;
  version: string;
  /** Stage FQNs with at least one module in the version, sorted. */
  stages: string[];
  modules: StoredModule[];
  bytes: number;
  /** ISO time the version became complete. */
  completedAt: string;
  /** ISO time the bot first recorded it. */
  recordedAt: string;
  /** ISO time its dir disappeared from the publish dir; null while it is there. */
  removedAt: string | null;
}

/** A complete version, before it is recorded. */
export type NewVersion = Omit<VersionRecord, 'publisher' | 'recordedAt' | 'removedAt'>;

export interface AnnouncementRecord {
  publisher: string;
  version: string;
  channel: string;
  status: AnnouncementStatus;
  /** Slack message ts once posted. */
  ts: string | null;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

/** A pending announcement with what the notifier needs to render it. */
export interface AnnouncementTask {
  channel: string;
  attempts: number;
  version: VersionRecord;
}

export type AdoptionAction = 'adopt' | 'unpin';

/** The Slack user a change is made for, with the real name Slack gave (the id when it could not). */
export interface Actor {
  id: string;
  name: string;
}

/** A landed adopt or unpin: the audit log `/smv history` shows. */
export interface AdoptionRecord {
  id: string;
  /** ISO time it landed on the remote (or was settled as landed after a crash). */
  at: string;
  action: AdoptionAction;
  consumer: string;
  /** Stage FQN. */
  stage: string;
  from: string | null;
  to: string | null;
  /** Full sha of the bot's commit. */
  commit: string;
  mode: 'push' | 'branch';
  /** Set in branch mode: the review branch pushed. */
  branch?: string;
  user: Actor;
}

/**
 * An adopt or unpin about to be pushed (SPEC §6): recorded before the push, settled after it,
 * so a crash in between is reconciled against the remote at the next start.
 */
export interface AdoptionIntent extends Omit<AdoptionRecord, 'at' | 'branch'> {
  /** ISO time the intent was recorded. */
  intendedAt: string;
  /** The branch pushed to: `branch` in push mode, the review branch in branch mode. */
  target: string;
  /** The remote tip the commit was made on. */
  parent: string;
  /** Where the request came from, so a reconciled landing can be told there. */
  channel: string | null;
}

export type AdoptionSettlement = 'landed' | 'abandoned';

export interface AdoptionFilter {
  consumer?: string;
  stage?: string;
  limit?: number;
}

/** A version of a stage its publisher took back (`/smv deprecate`): not adoptable, skipped by `latest`. */
export interface Deprecation {
  /** Stage FQN. */
  stage: string;
  version: string;
  reason: string | null;
  by: Actor;
  /** ISO time it was deprecated. */
  at: string;
}

/** A channel that asked for announcements of a stage (`*`: every stage), besides the configured ones. */
export interface Subscription {
  channel: string;
  /** Stage FQN, or `*` for every stage. */
  stage: string;
  by: Actor;
  at: string;
}

/** One "your pin was deprecated" message: told once per (stage, version, consumer, channel). */
export interface DeprecationNoticeKey {
  stage: string;
  version: string;
  consumer: string;
  channel: string;
}

/**
 * What a user asked that changes something (SPEC §5 "Durable"), as written to the state before
 * Slack gets its ack: a `/smv` command line, or an Adopt (or Adopt all) click with its names.
 */
export type CommandRequest =
  | { kind: 'smv'; text: string }
  | { kind: 'adopt'; stage: string; version: string; consumer: string; via: 'button' | 'modal' | 'home' }
  /** Adopt all: every stage (FQNs) of one version, in one commit. */
  | { kind: 'adopt-all'; stages: string[]; version: string; consumer: string; via: 'button' | 'modal' };

/** A durable command: who asked, where to answer, and its place in its queue. */
export interface QueuedCommand {
  /** Unique; a second enqueue with the same id is ignored. */
  id: string;
  /** Commands of one queue (a consumer, a stage, a channel) run one at a time, in order. */
  queue: string;
  request: CommandRequest;
  userId: string;
  channelId: string;
  /** Slack's response_url (valid 30 minutes); null when there is none. */
  responseUrl: string | null;
  receivedAt: string;
  /** How many times a worker has taken it (more than one: it was resumed after a worker died). */
  attempts: number;
}

/**
 * A consumer's change freeze (`/smv freeze`): while it lasts, adopts and unpins for the consumer are
 * refused (an admin may force one). It ends by itself at `until`, compared with the clock at every
 * check (never a timer), so it ends exactly on time across restarts and replicas.
 */
export interface Freeze {
  consumer: string;
  by: Actor;
  reason: string | null;
  /** ISO time it was set. */
  frozenAt: string;
  /** ISO time it ends (exclusive); null: until someone unfreezes it. */
  until: string | null;
}
