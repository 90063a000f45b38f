// The embedded state store (SPEC §6): one SQLite file in SMVBOT_DATA_DIR, WAL, versioned migrations.
// Every method that changes something is one transaction; SQLite rolls back a change that could not
// be written whole (crash, kill -9, full disk), so state is always the one before or after a change.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { StateCorruptError, StateUnavailableError, StateUnwritableError, type StatePort } from '../../core/statePort.ts';
import { legacyFilesIn, readLegacyState } from './legacyState.ts';
import { importState } from './sqliteImport.ts';
import { SqliteRecords } from './sqliteRecords.ts';
import { migrate } from './sqliteSchema.ts';
import { guardStatements, prepareStatements, type SqliteAccess, type Statements } from './sqliteStatements.ts';
import { SqliteVersions } from './sqliteVersions.ts';

export { SCHEMA_VERSION } from './sqliteSchema.ts';

export const DATABASE_FILE = 'smvbot.db';

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
  readonly #st: Statements;
  readonly #versions: SqliteVersions;
  readonly #records: SqliteRecords;
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
    const access: SqliteAccess = { st: this.#st, write: (fn) => this.#write(fn), writeInSteps: (steps) => this.#writeInSteps(steps) };
    this.#versions = new SqliteVersions(access);
    this.#records = new SqliteRecords(access);
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

  // --- the port: versions and announcements (sqliteVersions.ts), the other records (sqliteRecords.ts)
  readonly publisherKnown: StatePort['publisherKnown'] = (...a) => this.#versions.publisherKnown(...a);
  readonly eachKnownVersion: StatePort['eachKnownVersion'] = (...a) => this.#versions.eachKnownVersion(...a);
  readonly recordVersions: StatePort['recordVersions'] = (...a) => this.#versions.recordVersions(...a);
  readonly markRemoved: StatePort['markRemoved'] = (...a) => this.#versions.markRemoved(...a);
  readonly getVersion: StatePort['getVersion'] = (...a) => this.#versions.getVersion(...a);
  readonly versionsOfStage: StatePort['versionsOfStage'] = (...a) => this.#versions.versionsOfStage(...a);
  readonly countPublishedOfStage: StatePort['countPublishedOfStage'] = (...a) => this.#versions.countPublishedOfStage(...a);
  readonly countVersions: StatePort['countVersions'] = (...a) => this.#versions.countVersions(...a);
  readonly pendingAnnouncements: StatePort['pendingAnnouncements'] = (...a) => this.#versions.pendingAnnouncements(...a);
  readonly claimAnnouncements: StatePort['claimAnnouncements'] = (...a) => this.#versions.claimAnnouncements(...a);
  readonly markPosted: StatePort['markPosted'] = (...a) => this.#versions.markPosted(...a);
  readonly markRetry: StatePort['markRetry'] = (...a) => this.#versions.markRetry(...a);
  readonly markFailed: StatePort['markFailed'] = (...a) => this.#versions.markFailed(...a);
  readonly markUnknown: StatePort['markUnknown'] = (...a) => this.#versions.markUnknown(...a);
  readonly settleUnknownAsPosted: StatePort['settleUnknownAsPosted'] = (...a) => this.#versions.settleUnknownAsPosted(...a);
  readonly settleUnknownAsNotPosted: StatePort['settleUnknownAsNotPosted'] = (...a) => this.#versions.settleUnknownAsNotPosted(...a);
  readonly reopenFailedPosts: StatePort['reopenFailedPosts'] = (...a) => this.#versions.reopenFailedPosts(...a);
  readonly settleInterruptedPosts: StatePort['settleInterruptedPosts'] = (...a) => this.#versions.settleInterruptedPosts(...a);
  readonly postedMessagesOf: StatePort['postedMessagesOf'] = (...a) => this.#versions.postedMessagesOf(...a);
  readonly messageContents: StatePort['messageContents'] = (...a) => this.#versions.messageContents(...a);
  readonly announcementsIn: StatePort['announcementsIn'] = (...a) => this.#versions.announcementsIn(...a);
  readonly initializedAt: StatePort['initializedAt'] = (...a) => this.#records.initializedAt(...a);
  readonly markInitialized: StatePort['markInitialized'] = (...a) => this.#records.markInitialized(...a);
  readonly probeWrite: StatePort['probeWrite'] = (...a) => this.#records.probeWrite(...a);
  readonly recordAdoptionIntent: StatePort['recordAdoptionIntent'] = (...a) => this.#records.recordAdoptionIntent(...a);
  readonly settleAdoption: StatePort['settleAdoption'] = (...a) => this.#records.settleAdoption(...a);
  readonly unsettledAdoptions: StatePort['unsettledAdoptions'] = (...a) => this.#records.unsettledAdoptions(...a);
  readonly abandonedAdoptionsSince: StatePort['abandonedAdoptionsSince'] = (...a) => this.#records.abandonedAdoptionsSince(...a);
  readonly adoptions: StatePort['adoptions'] = (...a) => this.#records.adoptions(...a);
  readonly deprecate: StatePort['deprecate'] = (...a) => this.#records.deprecate(...a);
  readonly undeprecate: StatePort['undeprecate'] = (...a) => this.#records.undeprecate(...a);
  readonly deprecationsOf: StatePort['deprecationsOf'] = (...a) => this.#records.deprecationsOf(...a);
  readonly claimDeprecationNotice: StatePort['claimDeprecationNotice'] = (...a) => this.#records.claimDeprecationNotice(...a);
  readonly subscribe: StatePort['subscribe'] = (...a) => this.#records.subscribe(...a);
  readonly unsubscribe: StatePort['unsubscribe'] = (...a) => this.#records.unsubscribe(...a);
  readonly subscriptionsOf: StatePort['subscriptionsOf'] = (...a) => this.#records.subscriptionsOf(...a);
  readonly freezeOf: StatePort['freezeOf'] = (...a) => this.#records.freezeOf(...a);
  readonly setFreeze: StatePort['setFreeze'] = (...a) => this.#records.setFreeze(...a);
  readonly removeFreeze: StatePort['removeFreeze'] = (...a) => this.#records.removeFreeze(...a);
  readonly enqueueCommand: StatePort['enqueueCommand'] = (...a) => this.#records.enqueueCommand(...a);
  readonly claimCommands: StatePort['claimCommands'] = (...a) => this.#records.claimCommands(...a);
  readonly renewCommandLeases: StatePort['renewCommandLeases'] = (...a) => this.#records.renewCommandLeases(...a);
  readonly finishCommand: StatePort['finishCommand'] = (...a) => this.#records.finishCommand(...a);
  readonly forgetFinishedCommands: StatePort['forgetFinishedCommands'] = (...a) => this.#records.forgetFinishedCommands(...a);
  readonly commandBacklog: StatePort['commandBacklog'] = (...a) => this.#records.commandBacklog(...a);

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
