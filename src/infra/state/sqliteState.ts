// The embedded state store (SPEC §6): one SQLite file in SMVBOT_DATA_DIR, WAL, versioned migrations.
// Every method that changes something is one transaction; SQLite rolls back a change that could not
// be written whole (crash, kill -9, full disk), so state is always the one before or after a change.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type {
  QueuedCommand,
  AdoptionFilter,
  AdoptionIntent,
  AdoptionRecord,
  AdoptionSettlement,
  AnnouncementRecord,
  AnnouncementStatus,
  AnnouncementTask,
  Deprecation,
  DeprecationNoticeKey,
  NewVersion,
  Subscription,
  VersionRecord,
} from '../../domain/records.ts';
import { StateCorruptError, StateUnavailableError, StateUnwritableError, type AnnouncementKey, type MessageLayout, type StatePort, type VersionSummary } from '../../core/statePort.ts';
import {
  lifecycleMigration,
  commandsMigration,
  CLAIMABLE_COMMANDS,
  toQueuedCommand,
  type CommandRow,
  toAdoptionIntent,
  toAdoptionRecord,
  toAnnouncementRecord,
  toDeprecation,
  toSubscription,
  toVersionRecord,
  toVersionSummary,
  type AdoptionRow,
  type AnnouncementRow,
  type DeprecationRow,
  type SubscriptionRow,
  type VersionRow,
} from './stateRows.ts';
import { legacyFilesIn, readLegacyState, type LegacyState } from './legacyState.ts';

export const DATABASE_FILE = 'smvbot.db';

/** Append-only: a released migration is never edited, a change is a new entry. user_version = how many ran. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE publishers (name TEXT PRIMARY KEY, first_seen_at TEXT NOT NULL) STRICT;
  CREATE TABLE versions (
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    stages TEXT NOT NULL,            -- JSON array of stage FQNs
    modules TEXT NOT NULL,           -- JSON array of {fqn, stage, bytes}
    module_count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    completed_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    removed_at TEXT,
    PRIMARY KEY (publisher, version)
  ) STRICT;
  CREATE TABLE version_stages (
    stage TEXT NOT NULL,
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (stage, publisher, version),
    FOREIGN KEY (publisher, version) REFERENCES versions (publisher, version)
  ) STRICT;
  CREATE INDEX version_stages_newest ON version_stages (stage, completed_at DESC, version DESC);
  CREATE TABLE announcements (
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('silent', 'pending', 'in_flight', 'posted', 'failed', 'unknown')),
    ts TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (publisher, version, channel),
    FOREIGN KEY (publisher, version) REFERENCES versions (publisher, version)
  ) STRICT;
  CREATE INDEX announcements_open ON announcements (status) WHERE status NOT IN ('silent', 'posted');
  CREATE TABLE adoptions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('intended', 'landed', 'abandoned')),
    intended_at TEXT NOT NULL,
    settled_at TEXT,
    action TEXT NOT NULL CHECK (action IN ('adopt', 'unpin')),
    consumer TEXT NOT NULL,
    stage TEXT NOT NULL,
    from_version TEXT,
    to_version TEXT,
    commit_sha TEXT NOT NULL,
    parent_sha TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('push', 'branch')),
    target TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    channel TEXT
  ) STRICT;
  CREATE INDEX adoptions_landed ON adoptions (consumer, stage, seq) WHERE state = 'landed';
  CREATE INDEX adoptions_unsettled ON adoptions (state) WHERE state = 'intended';
  `,
  // 2: the release lifecycle (SPEC §4): deprecations, whom they were told, and channel subscriptions.
  lifecycleMigration('STRICT'),
  // 3: durable commands (SPEC §5).
  commandsMigration('INTEGER PRIMARY KEY', 'STRICT'),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenedState {
  store: SqliteState;
  /** Set when a state of an earlier release was imported at this open. */
  imported: { from: string[]; renamedTo: string[]; versions: number; adoptions: number } | null;
}

/** SQLite error codes that mean "could not write", as opposed to a bug or a corrupt file. */
function isWriteFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL)/.test(code);
}

function isCorrupt(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

export interface SqliteStateOptions {
  /** Where a problem that fails nothing is told (a final checkpoint refused at close). */
  log?: { warn(obj: object, msg: string): void };
}

export class SqliteState implements StatePort {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: Database.Database;
  readonly #st;
  readonly #log: SqliteStateOptions['log'];
  #closed = false;
  #writeProblem: string | null = null;
  /** Set while #writeInSteps holds a transaction open; every other change waits for it. */
  #longWrite: Promise<void> | null = null;
  /** The file this connection has open (device and inode): the path must still name it. */
  readonly #identity: { dev: number; ino: number };
  #identityCheckedAt = 0;
  /** Set once the file is gone, replaced or corrupt: every use of the store then fails saying so. */
  #broken: { detail: string; fix: string } | null = null;

  private constructor(file: string, db: Database.Database, log: SqliteStateOptions['log']) {
    this.location = file;
    this.#db = db;
    this.#log = log;
    const { dev, ino } = statSync(file);
    this.#identity = { dev, ino };
    this.#st = guardStatements(prepareStatements(db), (use) => this.#guarded(use));
  }

  /**
   * Runs one use of the database, unless the state is known broken. Before it (at most once a
   * second) the path is checked to still name the open file: a deleted or replaced smvbot.db
   * would otherwise go unnoticed (the open file still answers) until a restart lost it all.
   * SQLite's corruption errors mark the store broken too.
   */
  #guarded<T>(use: () => T): T {
    this.#checkIdentity(false);
    if (this.#broken) throw this.#unavailableError();
    try {
      return use();
    } catch (error) {
      this.#noteFailure(error);
      if (this.#broken) throw this.#unavailableError();
      throw error;
    }
  }

  /** A failed use: corruption marks the store broken; an I/O error has the file's identity checked at once. */
  #noteFailure(error: unknown): void {
    if (error instanceof StateUnavailableError || this.#broken) return;
    if (isCorrupt(error)) {
      this.#broken = {
        detail: `${this.location} is corrupt (${(error as Error).message})`,
        fix: `An admin must stop smvbot, restore ${this.location} from a backup (smvbot never overwrites it), then start it again.`,
      };
      this.#log?.warn({ file: this.location }, `the state file is corrupt: ${this.#broken.detail}; every command is refused until it is restored`);
    } else this.#checkIdentity(true);
  }

  #checkIdentity(now: boolean): void {
    if (this.#broken || this.#closed) return;
    const at = Date.now();
    if (!now && at - this.#identityCheckedAt < 1000) return;
    this.#identityCheckedAt = at;
    let reason: string | null = null;
    try {
      const { dev, ino } = statSync(this.location);
      if (dev !== this.#identity.dev || ino !== this.#identity.ino) reason = 'was replaced by another file';
    } catch (error) {
      reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'was deleted' : `can no longer be looked at (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    }
    if (reason === null) return;
    this.#broken = {
      detail: `${this.location} ${reason} while the bot was running (it was deleted or replaced: what the bot records now would be lost at the next start)`,
      fix: `An admin must stop smvbot, put the state file back (restore ${this.location} from a backup, or move the original back), then start it again.`,
    };
    this.#log?.warn({ file: this.location }, `the state file ${reason}; every command is refused until it is back`);
  }

  #unavailableError(): StateUnavailableError {
    return new StateUnavailableError(this.location, this.#broken!.detail, this.#broken!.fix);
  }

  unavailable(): string | null {
    this.#checkIdentity(true);
    return this.#broken ? `${this.#broken.detail}. ${this.#broken.fix}` : null;
  }

  /**
   * Open (or create) `<dataDir>/smvbot.db`, run pending migrations, and import the state of an
   * earlier release once. A file that is not a usable smvbot database stops start-up naming it and
   * is never overwritten.
   */
  static async open(dataDir: string, opts: SqliteStateOptions = {}): Promise<OpenedState> {
    const dir = path.resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, DATABASE_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk before we act on it (a post after a claim must never be undone by a power cut).
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, file);
      const store = new SqliteState(file, db, opts.log);
      const imported = await store.#importLegacy(dir);
      return { store, imported };
    } catch (error) {
      db?.close();
      if (error instanceof StateCorruptError) throw error;
      if (isCorrupt(error)) throw new StateCorruptError(file, `it is not a usable SQLite database (${(error as Error).message})`);
      if (isWriteFailure(error)) throw new StateUnwritableError(file, (error as Error).message);
      throw error;
    }
  }

  /**
   * One change, whole or not at all; a write failure becomes StateUnwritableError. Waits while
   * a long recording holds its transaction open across turns of the event loop: a change made
   * inside it would be undone with it.
   */
  async #write<T>(fn: () => T): Promise<T> {
    while (this.#longWrite) await this.#longWrite;
    return this.#writeNow(fn);
  }

  #writeNow<T>(fn: () => T): T {
    if (this.#closed) throw new Error(`State store ${this.location} is closed; no further changes can be saved.`);
    this.#checkIdentity(false);
    if (this.#broken) throw this.#unavailableError();
    try {
      const result = this.#db.transaction(fn).immediate();
      this.#writeProblem = null;
      return result;
    } catch (error) {
      throw this.#writeFailure(error);
    }
  }

  #writeFailure(error: unknown): unknown {
    this.#noteFailure(error);
    if (this.#broken) return this.#unavailableError();
    if (!isWriteFailure(error)) return error;
    const failure = new StateUnwritableError(this.location, (error as Error).message);
    this.#writeProblem = failure.message;
    return failure;
  }

  /**
   * `steps` in one transaction, the event loop let run between them (a first scan records
   * 100,000 versions: 2 s in one go, long enough for a Slack ack to miss its 3 s). Every other
   * change waits for the commit; reads meanwhile may see the rows written so far.
   */
  async #writeInSteps(steps: Iterable<() => void>): Promise<void> {
    while (this.#longWrite) await this.#longWrite;
    if (this.#closed) throw new Error(`State store ${this.location} is closed; no further changes can be saved.`);
    this.#checkIdentity(false);
    if (this.#broken) throw this.#unavailableError();
    let done!: () => void;
    this.#longWrite = new Promise((resolve) => (done = resolve));
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const step of steps) {
        step();
        await yieldToEventLoop();
      }
      this.#db.exec('COMMIT');
      this.#writeProblem = null;
    } catch (error) {
      // A broken file may refuse the rollback too: the transaction ends with the connection then.
      if (this.#db.inTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // reported below
        }
      }
      throw this.#writeFailure(error);
    } finally {
      this.#longWrite = null;
      done();
    }
  }

  writeProblem(): string | null {
    return this.#writeProblem;
  }

  async deprecate(d: Deprecation): Promise<boolean> {
    return this.#write(() => this.#st.addDeprecation.run(d.stage, d.version, d.reason, d.by.id, d.by.name, d.at).changes === 1);
  }

  async undeprecate(stage: string, version: string): Promise<boolean> {
    return this.#write(() => {
      this.#st.forgetNotices.run(stage, version);
      return this.#st.removeDeprecation.run(stage, version).changes === 1;
    });
  }

  async deprecationsOf(stage: string): Promise<Deprecation[]> {
    return (this.#st.deprecationsOf.all(stage) as DeprecationRow[]).map(toDeprecation);
  }

  async claimDeprecationNotice(key: DeprecationNoticeKey, at: string): Promise<boolean> {
    return this.#write(() => this.#st.claimNotice.run(key.stage, key.version, key.consumer, key.channel, at).changes === 1);
  }

  async subscribe(sub: Subscription): Promise<boolean> {
    return this.#write(() => this.#st.addSubscription.run(sub.channel, sub.stage, sub.by.id, sub.by.name, sub.at).changes === 1);
  }

  async unsubscribe(channel: string, stage: string): Promise<boolean> {
    return this.#write(() => this.#st.removeSubscription.run(channel, stage).changes === 1);
  }

  async subscriptionsOf(channel: string): Promise<Subscription[]> {
    return (this.#st.subscriptionsOf.all(channel) as SubscriptionRow[]).map(toSubscription);
  }

  async enqueueCommand(c: Omit<QueuedCommand, 'attempts'>): Promise<void> {
    await this.#write(() =>
      this.#st.enqueueCommand.run(c.id, c.queue, JSON.stringify(c.request), c.userId, c.channelId, c.responseUrl, c.receivedAt),
    );
  }

  async claimCommands(owner: string, at: string, leaseUntil: string, limit: number): Promise<QueuedCommand[]> {
    const rows = await this.#write(() => this.#st.claimCommands.all({ owner, at, leaseUntil, limit }) as (CommandRow & { seq: number })[]);
    return rows.sort((a, b) => a.seq - b.seq).map(toQueuedCommand);
  }

  async renewCommandLeases(owner: string, ids: readonly string[], leaseUntil: string): Promise<string[]> {
    return this.#write(() => ids.filter((id) => this.#st.renewCommand.run(leaseUntil, id, owner).changes === 1));
  }

  async finishCommand(id: string, owner: string, outcome: string, at: string): Promise<boolean> {
    return this.#write(() => this.#st.finishCommand.run(at, outcome, id, owner).changes === 1);
  }

  async forgetFinishedCommands(finishedBefore: string): Promise<number> {
    return this.#write(() => this.#st.forgetCommands.run(finishedBefore).changes);
  }

  async commandBacklog(): Promise<{ pending: number; oldestReceivedAt: string | null }> {
    const row = this.#st.commandBacklog.get() as { pending: number; oldest: string | null };
    return { pending: row.pending, oldestReceivedAt: row.oldest };
  }

  async initializedAt(): Promise<string | null> {
    return (this.#st.getMeta.get('initialized_at') as { value: string } | undefined)?.value ?? null;
  }

  async markInitialized(at: string): Promise<void> {
    await this.#write(() => this.#st.setMetaIfAbsent.run('initialized_at', at));
  }

  /** A tiny write to learn whether the state can be written again (after a full disk). */
  async probeWrite(at: string): Promise<void> {
    await this.#write(() => this.#st.setMeta.run('last_write_probe', at));
  }

  async publisherKnown(publisher: string): Promise<boolean> {
    return this.#st.getPublisher.get(publisher) !== undefined;
  }

  async eachKnownVersion(publisher: string, visit: (version: string, removed: boolean) => void): Promise<void> {
    for (const row of this.#st.knownVersions.iterate(publisher) as Iterable<{ version: string; removed: number }>) visit(row.version, row.removed === 1);
  }

  async recordVersions(publisher: string, versions: readonly NewVersion[], opts: { channels: readonly string[]; silent: boolean; at: string }): Promise<void> {
    const status: AnnouncementStatus = opts.silent ? 'silent' : 'pending';
    const record = (v: NewVersion): void => {
      const added = this.#st.addVersion.run(publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, opts.at);
      // Recording a known version again changes nothing: its announcements stay as they are.
      if (added.changes === 0) return;
      for (const stage of v.stages) this.#st.addVersionStage.run(stage, publisher, v.version, v.completedAt);
      const subscribed = (this.#st.subscribersOf.all(JSON.stringify(v.stages)) as { channel: string }[]).map((r) => r.channel);
      for (const channel of new Set([...opts.channels, ...subscribed])) this.#st.addAnnouncement.run(publisher, v.version, channel, status, opts.at);
    };
    if (versions.length <= RECORD_STEP) {
      await this.#write(() => {
        this.#st.addPublisher.run(publisher, opts.at);
        versions.forEach(record);
      });
      return;
    }
    // Still one transaction (a first start killed part-way records all or nothing), in steps.
    const steps = function* (st: Statements) {
      yield () => void st.addPublisher.run(publisher, opts.at);
      for (let i = 0; i < versions.length; i += RECORD_STEP) yield () => versions.slice(i, i + RECORD_STEP).forEach(record);
    };
    await this.#writeInSteps(steps(this.#st));
  }

  async markRemoved(publisher: string, versions: readonly string[], at: string | null): Promise<void> {
    if (!versions.length) return;
    await this.#write(() => {
      for (const version of versions) this.#st.setRemoved.run(at, publisher, version);
    });
  }

  async getVersion(publisher: string, version: string): Promise<VersionRecord | undefined> {
    const row = this.#st.getVersion.get(publisher, version) as VersionRow | undefined;
    return row ? toVersionRecord(row) : undefined;
  }

  async versionsOfStage(stage: string, opts: { includeRemoved: boolean; limit?: number }): Promise<VersionSummary[]> {
    const statement = opts.includeRemoved ? this.#st.versionsOfStageAll : this.#st.versionsOfStagePublished;
    const rows = statement.all(stage, opts.limit ?? -1) as VersionRow[];
    return rows.map(toVersionSummary);
  }

  async countPublishedOfStage(stage: string): Promise<number> {
    return (this.#st.countPublishedOfStage.get(stage) as { n: number }).n;
  }

  async countVersions(): Promise<number> {
    return (this.#st.countVersions.get() as { n: number }).n;
  }

  async pendingAnnouncements(limit = 1000): Promise<AnnouncementTask[]> {
    const rows = this.#st.pendingAnnouncements.all(limit) as (VersionRow & { channel: string; attempts: number })[];
    return rows.map((row) => ({ channel: row.channel, attempts: row.attempts, version: toVersionRecord(row) }));
  }

  async claimAnnouncements(keys: readonly AnnouncementKey[], at: string): Promise<AnnouncementKey[]> {
    if (!keys.length) return [];
    return this.#write(() => keys.filter((key) => this.#st.claim.run(at, key.publisher, key.version, key.channel).changes === 1));
  }

  async markPosted(keys: readonly AnnouncementKey[], ts: string, at: string, layout?: MessageLayout): Promise<void> {
    if (!keys.length) return;
    await this.#write(() => {
      for (const key of keys) {
        this.#st.settle.run('posted', ts, null, at, key.publisher, key.version, key.channel);
        if (layout) this.#st.setLayout.run(JSON.stringify(layout), key.publisher, key.version, key.channel);
      }
    });
  }

  async postedMessagesOf(publisher: string, version: string): Promise<{ channel: string; ts: string }[]> {
    return this.#st.postedMessagesOf.all(publisher, version) as { channel: string; ts: string }[];
  }

  async messageContents(channel: string, ts: string): Promise<{ versions: { publisher: string; version: VersionRecord }[]; layout: MessageLayout | null }> {
    const rows = this.#st.messageContents.all(channel, ts) as (VersionRow & { layout: string | null })[];
    const layout = rows.find((r) => r.layout !== null)?.layout;
    return { versions: rows.map((row) => ({ publisher: row.publisher, version: toVersionRecord(row) })), layout: layout ? (JSON.parse(layout) as MessageLayout) : null };
  }

  async markRetry(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    await this.#settleAll(keys, 'pending', null, error, at);
  }

  async markFailed(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    await this.#settleAll(keys, 'failed', null, error, at);
  }

  async markUnknown(keys: readonly AnnouncementKey[], reason: string, at: string): Promise<void> {
    if (!keys.length) return;
    await this.#write(() => {
      for (const key of keys) this.#st.markUnknown.run(reason, at, key.publisher, key.version, key.channel);
    });
  }

  async #settleAll(keys: readonly AnnouncementKey[], status: AnnouncementStatus, ts: string | null, error: string | null, at: string): Promise<void> {
    if (!keys.length) return;
    await this.#write(() => {
      for (const key of keys) this.#st.settle.run(status, ts, error, at, key.publisher, key.version, key.channel);
    });
  }

  async settleUnknownAsPosted(key: AnnouncementKey, ts: string, at: string): Promise<boolean> {
    return this.#write(() => this.#st.settleUnknown.run('posted', ts, null, at, key.publisher, key.version, key.channel).changes === 1);
  }

  async settleUnknownAsNotPosted(key: AnnouncementKey, note: string, at: string): Promise<boolean> {
    return this.#write(() => this.#st.settleUnknown.run('pending', null, note, at, key.publisher, key.version, key.channel).changes === 1);
  }

  async reopenFailedPosts(failedBefore: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#write(() => {
      const rows = this.#st.failedBefore.all(failedBefore) as AnnouncementRow[];
      for (const row of rows) this.#st.reopenFailed.run(at, row.publisher, row.version, row.channel);
      return rows.map((row) => toAnnouncementRecord({ ...row, status: 'pending', updated_at: at }));
    });
  }

  async settleInterruptedPosts(reason: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#write(() => {
      const rows = this.#st.announcementsIn.all('in_flight', -1) as AnnouncementRow[];
      for (const row of rows) this.#st.settle.run('unknown', null, reason, at, row.publisher, row.version, row.channel);
      return rows.map((row) => toAnnouncementRecord({ ...row, status: 'unknown', last_error: reason, updated_at: at }));
    });
  }

  async announcementsIn(statuses: readonly AnnouncementStatus[], limit: number): Promise<AnnouncementRecord[]> {
    const rows: AnnouncementRow[] = [];
    for (const status of statuses) rows.push(...(this.#st.announcementsIn.all(status, limit) as AnnouncementRow[]));
    rows.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
    return rows.slice(0, limit).map(toAnnouncementRecord);
  }

  async recordAdoptionIntent(intent: AdoptionIntent): Promise<void> {
    await this.#write(() =>
      this.#st.addIntent.run({
        id: intent.id,
        intended_at: intent.intendedAt,
        action: intent.action,
        consumer: intent.consumer,
        stage: intent.stage,
        from_version: intent.from,
        to_version: intent.to,
        commit_sha: intent.commit,
        parent_sha: intent.parent,
        mode: intent.mode,
        target: intent.target,
        user_id: intent.user.id,
        user_name: intent.user.name,
        channel: intent.channel,
      }),
    );
  }

  async settleAdoption(id: string, outcome: AdoptionSettlement, at: string): Promise<AdoptionRecord | null> {
    return this.#write(() => {
      this.#st.settleIntent.run({ outcome, at, id });
      const row = this.#st.getAdoption.get(id) as AdoptionRow | undefined;
      return row && row.state === 'landed' ? toAdoptionRecord(row) : null;
    });
  }

  async unsettledAdoptions(): Promise<AdoptionIntent[]> {
    return (this.#st.unsettled.all() as AdoptionRow[]).map(toAdoptionIntent);
  }

  async abandonedAdoptionsSince(since: string): Promise<AdoptionIntent[]> {
    return (this.#st.abandonedSince.all(since) as AdoptionRow[]).map(toAdoptionIntent);
  }

  async adoptions(filter: AdoptionFilter = {}): Promise<AdoptionRecord[]> {
    const rows = this.#st.landed.all({
      consumer: filter.consumer ?? null,
      stage: filter.stage ?? null,
      limit: filter.limit ?? -1,
    }) as AdoptionRow[];
    return rows.map(toAdoptionRecord);
  }

  /** One process holds the data dir: its own queue (ConsumerWorkspaces) already serialises. */
  withConsumerLock<T>(_consumer: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // A recording in steps is finished, not cut off (closing would roll it back).
    while (this.#longWrite) await this.#longWrite;
    if (this.#closed) return;
    this.#closed = true;
    try {
      // Fold the WAL back into the database file so a copy of smvbot.db alone is complete; not
      // into a file that is gone or corrupt (that would only spread the damage).
      if (!this.#broken) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (error) {
      // A full disk can refuse the checkpoint; nothing is lost: the WAL stays and is replayed at the next open.
      this.#log?.warn(
        { file: this.location, err: (error as Error).message },
        `could not fold the write-ahead log into ${DATABASE_FILE} at shutdown; it is kept next to it and replayed at the next start (copy both files for a backup)`,
      );
    }
    this.#db.close();
  }

  /** Import the state of the release before this store, once, in one transaction. */
  async #importLegacy(dir: string): Promise<OpenedState['imported']> {
    const files = await legacyFilesIn(dir);
    if (!files.length) return null;
    const alreadyImported = this.#st.getMeta.get('imported_at') !== undefined;
    let counts = { versions: 0, adoptions: 0 };
    if (!alreadyImported) {
      if (this.#hasAnyState()) {
        throw new StateCorruptError(
          files[0]!,
          `both ${this.location} and this state of an earlier smvbot release hold state, and only one can be right`,
          `Move the older one aside (mv ${files[0]} ${files[0]}.old) and start smvbot again.`,
        );
      }
      const legacy = await readLegacyState(dir);
      counts = this.#writeNow(() => importState(this.#st, legacy, files, new Date().toISOString()));
    }
    // Renamed after the import committed: a crash in between only renames them at the next start.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const renamedTo = files.map((file) => {
      const target = `${file}.imported-${stamp}`;
      renameSync(file, target);
      return target;
    });
    return { from: files, renamedTo, ...counts };
  }

  #hasAnyState(): boolean {
    return this.#st.anyState.get() !== undefined;
  }
}

/** Run the migrations this file has not had yet, each in its own transaction. */
function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StateCorruptError(
      file,
      `it was written by a newer smvbot (schema version ${current}, this smvbot knows up to ${MIGRATIONS.length})`,
      'Upgrade smvbot, or restore the database from a backup made by this release.',
    );
  }
  for (let i = current; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    }).immediate();
  }
}

/** The same statements, each use of one (run, get, all, iterate) made through `guard`. */
function guardStatements<S extends Record<string, Database.Statement>>(statements: S, guard: <T>(use: () => T) => T): S {
  const guarded: Record<string, Database.Statement> = {};
  for (const [name, statement] of Object.entries(statements)) {
    guarded[name] = new Proxy(statement, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'run' && prop !== 'get' && prop !== 'all' && prop !== 'iterate') return value;
        return (...args: unknown[]) => guard(() => (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  }
  return guarded as S;
}

function prepareStatements(db: Database.Database) {
  const versionColumns = 'v.publisher, v.version, v.stages, v.modules, v.module_count, v.bytes, v.completed_at, v.recorded_at, v.removed_at';
  return {
    enqueueCommand: db.prepare(
      `INSERT INTO commands (id, queue, request, user_id, channel, response_url, received_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (id) DO NOTHING`,
    ),
    claimCommands: db.prepare(
      `UPDATE commands SET lease_owner = $owner, lease_until = $leaseUntil, attempts = attempts + 1
       WHERE seq IN (${CLAIMABLE_COMMANDS})
       RETURNING seq, id, queue, request, user_id, channel, response_url, received_at, attempts`,
    ),
    renewCommand: db.prepare(`UPDATE commands SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'`),
    finishCommand: db.prepare(`UPDATE commands SET state = 'done', finished_at = ?, outcome = ?, lease_until = NULL WHERE id = ? AND lease_owner = ? AND state = 'pending'`),
    forgetCommands: db.prepare(`DELETE FROM commands WHERE state = 'done' AND finished_at < ?`),
    commandBacklog: db.prepare(`SELECT count(*) AS pending, min(received_at) AS oldest FROM commands WHERE state = 'pending'`),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    subscribersOf: db.prepare(`SELECT DISTINCT channel FROM subscriptions WHERE stage = '*' OR stage IN (SELECT value FROM json_each(?)) ORDER BY channel`),
    addDeprecation: db.prepare('INSERT INTO deprecations (stage, version, reason, user_id, user_name, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    removeDeprecation: db.prepare('DELETE FROM deprecations WHERE stage = ? AND version = ?'),
    deprecationsOf: db.prepare('SELECT * FROM deprecations WHERE stage = ? ORDER BY at DESC, version DESC'),
    forgetNotices: db.prepare('DELETE FROM deprecation_notices WHERE stage = ? AND version = ?'),
    claimNotice: db.prepare('INSERT INTO deprecation_notices (stage, version, consumer, channel, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    addSubscription: db.prepare('INSERT INTO subscriptions (channel, stage, user_id, user_name, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    removeSubscription: db.prepare('DELETE FROM subscriptions WHERE channel = ? AND stage = ?'),
    subscriptionsOf: db.prepare('SELECT * FROM subscriptions WHERE channel = ? ORDER BY at, stage'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    setMetaIfAbsent: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getPublisher: db.prepare('SELECT name FROM publishers WHERE name = ?'),
    addPublisher: db.prepare('INSERT INTO publishers (name, first_seen_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    knownVersions: db.prepare('SELECT version, removed_at IS NOT NULL AS removed FROM versions WHERE publisher = ?'),
    addVersion: db.prepare(
      `INSERT INTO versions (publisher, version, stages, modules, module_count, bytes, completed_at, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (publisher, version) DO NOTHING`,
    ),
    addVersionStage: db.prepare('INSERT INTO version_stages (stage, publisher, version, completed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    addAnnouncement: db.prepare(
      `INSERT INTO announcements (publisher, version, channel, status, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    setRemoved: db.prepare('UPDATE versions SET removed_at = ? WHERE publisher = ? AND version = ?'),
    getVersion: db.prepare(`SELECT ${versionColumns} FROM versions v WHERE v.publisher = ? AND v.version = ?`),
    versionsOfStageAll: db.prepare(
      `SELECT ${versionColumns} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? ORDER BY s.completed_at DESC, s.version DESC LIMIT ?`,
    ),
    versionsOfStagePublished: db.prepare(
      `SELECT ${versionColumns} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? AND v.removed_at IS NULL ORDER BY s.completed_at DESC, s.version DESC LIMIT ?`,
    ),
    countVersions: db.prepare('SELECT count(*) AS n FROM versions'),
    countPublishedOfStage: db.prepare(
      `SELECT count(*) AS n FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? AND v.removed_at IS NULL`,
    ),
    pendingAnnouncements: db.prepare(
      `SELECT a.channel, a.attempts, ${versionColumns} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.status = 'pending' AND v.removed_at IS NULL
       ORDER BY v.completed_at, v.version, a.channel LIMIT ?`,
    ),
    setLayout: db.prepare('UPDATE announcements SET layout = ? WHERE publisher = ? AND version = ? AND channel = ?'),
    postedMessagesOf: db.prepare(`SELECT channel, ts FROM announcements WHERE publisher = ? AND version = ? AND status = 'posted' AND ts IS NOT NULL ORDER BY channel`),
    messageContents: db.prepare(
      `SELECT a.layout, ${versionColumns} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.channel = ? AND a.ts = ? AND a.status = 'posted'
       ORDER BY v.completed_at, v.version`,
    ),
    claim: db.prepare(
      `UPDATE announcements SET status = 'in_flight', attempts = attempts + 1, updated_at = ?
       WHERE publisher = ? AND version = ? AND channel = ? AND status = 'pending'`,
    ),
    settle: db.prepare(
      `UPDATE announcements SET status = ?, ts = coalesce(?, ts), last_error = ?, updated_at = ?
       WHERE publisher = ? AND version = ? AND channel = ?`,
    ),
    markUnknown: db.prepare(
      `UPDATE announcements SET status = 'unknown', last_error = ?, updated_at = ?
       WHERE publisher = ? AND version = ? AND channel = ? AND status IN ('in_flight', 'unknown')`,
    ),
    settleUnknown: db.prepare(
      `UPDATE announcements SET status = ?, ts = coalesce(?, ts), last_error = ?, updated_at = ?
       WHERE publisher = ? AND version = ? AND channel = ? AND status = 'unknown'`,
    ),
    failedBefore: db.prepare(`SELECT * FROM announcements WHERE status = 'failed' AND updated_at <= ? ORDER BY updated_at`),
    reopenFailed: db.prepare(
      `UPDATE announcements SET status = 'pending', updated_at = ? WHERE publisher = ? AND version = ? AND channel = ? AND status = 'failed'`,
    ),
    announcementsIn: db.prepare('SELECT * FROM announcements WHERE status = ? ORDER BY updated_at DESC LIMIT ?'),
    addIntent: db.prepare(
      `INSERT INTO adoptions (id, state, intended_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
       VALUES (@id, 'intended', @intended_at, @action, @consumer, @stage, @from_version, @to_version, @commit_sha, @parent_sha, @mode, @target, @user_id, @user_name, @channel)`,
    ),
    importAdoption: db.prepare(
      `INSERT INTO adoptions (id, state, intended_at, settled_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
       VALUES (@id, 'landed', @at, @at, @action, @consumer, @stage, @from_version, @to_version, @commit_sha, '', @mode, @target, @user_id, @user_name, NULL)
       ON CONFLICT (id) DO NOTHING`,
    ),
    settleIntent: db.prepare(
      `UPDATE adoptions SET state = @outcome, settled_at = @at
       WHERE id = @id AND (state = 'intended' OR (state = 'abandoned' AND @outcome = 'landed'))`,
    ),
    abandonedSince: db.prepare(`SELECT * FROM adoptions WHERE state = 'abandoned' AND settled_at >= ? ORDER BY seq`),
    getAdoption: db.prepare('SELECT * FROM adoptions WHERE id = ?'),
    unsettled: db.prepare(`SELECT * FROM adoptions WHERE state = 'intended' ORDER BY seq`),
    landed: db.prepare(
      `SELECT * FROM adoptions WHERE state = 'landed'
       AND (@consumer IS NULL OR consumer = @consumer) AND (@stage IS NULL OR stage = @stage)
       ORDER BY settled_at DESC, seq DESC LIMIT @limit`,
    ),
    anyState: db.prepare('SELECT 1 FROM publishers UNION ALL SELECT 1 FROM adoptions LIMIT 1'),
    setAnnouncementImported: db.prepare(
      `INSERT INTO announcements (publisher, version, channel, status, ts, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    setRemovedImported: db.prepare('UPDATE versions SET removed_at = ?, recorded_at = ? WHERE publisher = ? AND version = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Versions recorded per step of a long recording (a few ms each). */
const RECORD_STEP = 250;

/** Copy an earlier release's state in (inside the caller's transaction). */
function importState(st: Statements, legacy: LegacyState, files: string[], at: string): { versions: number; adoptions: number } {
  let versions = 0;
  for (const [publisher, { versions: byName }] of Object.entries(legacy.publishers)) {
    st.addPublisher.run(publisher, at);
    for (const v of Object.values(byName)) {
      st.addVersion.run(publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, v.recordedAt);
      st.setRemovedImported.run(v.removedAt ?? null, v.recordedAt, publisher, v.version);
      for (const stage of v.stages) st.addVersionStage.run(stage, publisher, v.version, v.completedAt);
      for (const [channel, a] of Object.entries(v.announcements)) {
        // The old release died mid-post: Slack may have the message, so it is not sent again.
        const interrupted = a.status === 'in_flight';
        st.setAnnouncementImported.run(
          publisher,
          v.version,
          channel,
          interrupted ? 'unknown' : a.status,
          a.ts ?? null,
          a.attempts,
          interrupted ? 'in flight when the earlier release stopped; not re-posted to avoid a duplicate' : (a.lastError ?? null),
          a.updatedAt,
        );
      }
      versions++;
    }
  }
  for (const a of legacy.adoptions) {
    st.importAdoption.run({
      id: a.id,
      at: a.at,
      action: a.action,
      consumer: a.consumer,
      stage: a.stage,
      from_version: a.from,
      to_version: a.to,
      commit_sha: a.commit,
      mode: a.mode,
      target: a.branch ?? '',
      user_id: a.user.id,
      user_name: a.user.name,
    });
  }
  if (legacy.initializedAt) st.setMetaIfAbsent.run('initialized_at', legacy.initializedAt);
  st.setMeta.run('imported_at', at);
  st.setMeta.run('imported_from', JSON.stringify(files));
  return { versions, adoptions: legacy.adoptions.length };
}
