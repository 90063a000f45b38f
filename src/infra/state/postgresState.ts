// The shared state store (SPEC §6): PostgreSQL, for several replicas on one database.
// Same StatePort as the embedded store; every change one transaction. Migrations run once under
// an advisory lock however many replicas start together. Leadership is a lease (table `leader`):
// its fencing number is raised by each replica that takes it and checked in the transaction that
// claims an announcement, so a replica that lost leadership without noticing cannot claim a post.
import pg from 'pg';
import { StateCorruptError, StateUnavailableError, StateUnwritableError, type StatePort } from '../../core/statePort.ts';
import { connectionConfig, describePgError, IDLE_IN_TRANSACTION_MS, isPgWriteFailure, LOCK_KEY, SCAN_CHANNEL, type PgAccess } from './postgresConnection.ts';
import { PgRecords } from './postgresRecords.ts';
import { migrate } from './postgresSchema.ts';
import { PgVersions } from './postgresVersions.ts';

export { PG_SCHEMA_VERSION } from './postgresSchema.ts';

/** How long a leader's lease lasts without renewal (it renews every second). */
export const DEFAULT_LEASE_MS = 10_000;

/** The leader row as the database sees it. */
export interface LeaderLease {
  epoch: number;
  holder: string | null;
  /** When the lease ends unless renewed (ISO); null when never taken. */
  expiresAt: string | null;
  renewedAt: string | null;
  /** The database's clock when read. */
  now: string;
}

export interface PostgresOptions {
  /** `postgres://…`; a libpq `options=-c search_path=…` picks the schema (default: the user's search_path). */
  url: string;
  /** Where to say the state is, without credentials (from config). */
  location: string;
  /** Connections for queries (default 10); advisory locks held during adopts use their own. */
  poolSize?: number;
  onPoolError?: (error: Error) => void;
}

export class PostgresState implements StatePort {
  readonly kind = 'postgresql' as const;
  readonly location: string;
  /** The schema the tables live in. */
  readonly schema: string;
  readonly #url: string;
  readonly #pool: pg.Pool;
  /** Connections that hold a consumer's transaction-level advisory lock during an adopt. */
  readonly #lockPool: pg.Pool;
  #closed = false;
  #writeProblem: string | null = null;
  /** The fencing number this replica got when it took leadership; null while it is not the leader. */
  #fence: number | null = null;
  #onFenced: (() => void) | null = null;
  readonly #versions: PgVersions;
  readonly #records: PgRecords;

  private constructor(opts: PostgresOptions, schema: string, pool: pg.Pool, lockPool: pg.Pool) {
    this.location = opts.location;
    this.schema = schema;
    this.#url = opts.url;
    this.#pool = pool;
    this.#lockPool = lockPool;
    const access: PgAccess = { write: (fn) => this.#write(fn), read: (sql, params) => this.#read(sql, params), holdsFence: (c) => this.#holdsFence(c) };
    this.#versions = new PgVersions(access);
    this.#records = new PgRecords(access);
  }

  /**
   * Connect, run pending migrations (one replica at a time, under an advisory lock: the others
   * wait and find them done), and return the store. A database written by a newer smvbot is refused.
   */
  static async open(opts: PostgresOptions): Promise<PostgresState> {
    const onError = opts.onPoolError ?? (() => undefined);
    // The main pool's transactions are short; the lock pool's last a whole adopt (git included).
    const pool = new pg.Pool({ ...connectionConfig(opts.url, { idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS }), max: opts.poolSize ?? 10 });
    const lockPool = new pg.Pool({ ...connectionConfig(opts.url), max: 32 });
    pool.on('error', onError);
    lockPool.on('error', onError);
    try {
      const schema = await migrate(opts.url, opts.location);
      return new PostgresState(opts, schema, pool, lockPool);
    } catch (error) {
      // Best effort: the migration's error is the one to report.
      await Promise.all([pool.end(), lockPool.end()]).catch(() => undefined);
      if (error instanceof StateCorruptError) throw error;
      if (isPgWriteFailure(error)) throw new StateUnwritableError(opts.location, describePgError(error));
      throw error;
    }
  }

  /** A new connection on the same database and schema (the leadership's dedicated one). */
  newClient(extra: pg.ClientConfig = {}): pg.Client {
    return new pg.Client(connectionConfig(this.#url, extra));
  }

  /** One change, whole or not at all, on one connection; a lost server becomes StateUnwritableError. */
  async #write<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error(`State store ${this.location} is closed; no further changes can be saved.`);
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.#unwritable(error);
    }
    // A connection error also fails the query in flight: it surfaces there, not through this event.
    const swallow = () => undefined;
    client.on('error', swallow);
    let broken: unknown = null;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      this.#writeProblem = null;
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      if (isPgWriteFailure(error)) {
        broken ??= error;
        throw this.#unwritable(error);
      }
      throw error;
    } finally {
      client.off('error', swallow);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  #unwritable(error: unknown): StateUnwritableError {
    const failure = new StateUnwritableError(this.location, describePgError(error));
    this.#writeProblem = failure.message;
    return failure;
  }

  /** Asks whichever replica leads to scan now (it LISTENs on SCAN_CHANNEL). */
  async requestScan(): Promise<void> {
    await this.#read(`SELECT pg_notify('${SCAN_CHANNEL}', current_schema())`);
  }

  async #read<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    if (this.#closed) throw new Error(`State store ${this.location} is closed.`);
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** A server that cannot be reached (or refuses work) becomes StateUnavailableError; other errors stay as they are. */
  #unavailable(error: unknown): unknown {
    if (!isPgWriteFailure(error)) return error;
    return new StateUnavailableError(this.location, describePgError(error), `Try again once it is back; an admin can check that the PostgreSQL server at ${this.location} is up (see /healthz).`);
  }

  writeProblem(): string | null {
    return this.#writeProblem;
  }

  // --- leadership -------------------------------------------------------------------------

  /**
   * Take the lease and raise the fencing number, on the leadership's own connection (its session
   * is recorded: when it ends, the lease is free at once). Taken only when free: expired (its
   * holder stopped renewing, e.g. a frozen process), released, or held by a session that no
   * longer exists. Returns the new fencing number, or null while another replica holds it.
   * `force` takes it whatever its state (a lone replica in tests).
   */
  async takeLease(client: pg.ClientBase, holder: string, leaseMs: number, opts: { force?: boolean } = {}): Promise<number | null> {
    const { rows } = await client.query<{ epoch: string }>(
      `UPDATE leader SET epoch = epoch + 1, holder = $1, taken_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         expires_at = now() + $2 * interval '1 millisecond', renewed_at = now(), backend_pid = pg_backend_pid()
       WHERE id = 1 AND ($3 OR expires_at IS NULL OR expires_at <= now() OR backend_pid IS NULL
         OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = leader.backend_pid))
       RETURNING epoch`,
      [holder, leaseMs, opts.force === true],
    );
    if (rows.length === 0) return null;
    this.#fence = Number(rows[0]!.epoch);
    return this.#fence;
  }

  /**
   * Extend the lease this replica holds by `leaseMs` from now (the server's clock). False when it
   * no longer holds it (another replica raised the fencing number): this replica must step down.
   */
  async renewLease(client: pg.ClientBase, leaseMs: number): Promise<boolean> {
    if (this.#fence === null) return false;
    const { rowCount } = await client.query(
      `UPDATE leader SET expires_at = now() + $2 * interval '1 millisecond', renewed_at = now(), backend_pid = pg_backend_pid() WHERE id = 1 AND epoch = $1`,
      [this.#fence, leaseMs],
    );
    if (rowCount === 1) return true;
    this.#fence = null;
    return false;
  }

  /** Give the lease up (a deploy's SIGTERM): a follower takes it at its next try. */
  async releaseLease(client: pg.ClientBase): Promise<void> {
    const fence = this.#fence;
    this.#fence = null;
    if (fence === null) return;
    await client.query('UPDATE leader SET expires_at = now(), backend_pid = NULL WHERE id = 1 AND epoch = $1', [fence]);
  }

  /** Who holds the lease and until when, as the database sees it (for /healthz). */
  async leaderLease(): Promise<LeaderLease> {
    const [row] = await this.#read<{ epoch: string; holder: string | null; expires_at: Date | null; renewed_at: Date | null; now: Date }>(
      'SELECT epoch, holder, expires_at, renewed_at, now() AS now FROM leader WHERE id = 1',
    );
    return {
      epoch: Number(row!.epoch),
      holder: row!.holder,
      expiresAt: row!.expires_at?.toISOString() ?? null,
      renewedAt: row!.renewed_at?.toISOString() ?? null,
      now: row!.now.toISOString(),
    };
  }

  /**
   * Raise the fencing number and keep it, whatever the lease's state: from now on this store's
   * claims are valid until another replica raises it. For a store used without PostgresLeadership.
   */
  async takeLeadership(holder: string, _at: string): Promise<number> {
    const client = await this.#pool.connect();
    try {
      return (await this.takeLease(client, holder, DEFAULT_LEASE_MS, { force: true }))!;
    } finally {
      client.release();
    }
  }

  /** Stop claiming (leadership lost or given up). */
  dropLeadership(): void {
    this.#fence = null;
  }

  get fence(): number | null {
    return this.#fence;
  }

  /** Told when a claim finds the fencing number raised by another replica (this one is no longer leader). */
  onFenced(fn: () => void): void {
    this.#onFenced = fn;
  }

  /** Inside a transaction: whether this replica's fencing number is still the current one. */
  async #holdsFence(c: pg.PoolClient): Promise<boolean> {
    if (this.#fence === null) return false;
    // FOR SHARE: a replica taking leadership (UPDATE leader) waits for this claim, and this claim waits for it.
    const { rows } = await c.query<{ epoch: string }>('SELECT epoch FROM leader WHERE id = 1 FOR SHARE');
    if (Number(rows[0]!.epoch) === this.#fence) return true;
    this.#fence = null;
    this.#onFenced?.();
    return false;
  }

  /**
   * Runs `fn` while no other replica runs one for the same consumer: a transaction-level advisory
   * lock on its own connection, held until `fn` settles (and released by the server if this process dies).
   */
  async withConsumerLock<T>(consumer: string, fn: () => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#lockPool.connect();
    } catch (error) {
      throw this.#unavailable(error);
    }
    const swallow = () => undefined;
    client.on('error', swallow);
    let broken: unknown = null;
    try {
      try {
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY.consumer})`, [consumer]);
      } catch (error) {
        throw this.#unavailable(error);
      }
      try {
        return await fn();
      } finally {
        await client.query('COMMIT').catch((e: unknown) => (broken = e));
      }
    } catch (error) {
      broken ??= error;
      // The connection is discarded (broken) either way; fn's error is the one to report.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', swallow);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  // --- the port: versions and announcements (postgresVersions.ts), the other records (postgresRecords.ts)
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fence = null;
    // Every change was committed or rolled back before close: a pool that ends badly loses nothing.
    await Promise.all([this.#pool.end(), this.#lockPool.end()]).catch(() => undefined);
  }
}
