// The shared state store (SPEC §6): PostgreSQL, for several replicas on one database.
// Same StatePort as the embedded store; every change one transaction. Migrations run once under
// an advisory lock however many replicas start together. Leadership is a lease (table `leader`):
// its fencing number is raised by each replica that takes it and checked in the transaction that
// claims an announcement, so a replica that lost leadership without noticing cannot claim a post.
import pg from 'pg';
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
  Subscription,
  NewVersion,
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

/** Append-only, like the SQLite store's: a released migration is never edited. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE publishers (name TEXT PRIMARY KEY, first_seen_at TEXT NOT NULL);
  CREATE TABLE versions (
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    stages TEXT NOT NULL,
    modules TEXT NOT NULL,
    module_count INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    completed_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    removed_at TEXT,
    PRIMARY KEY (publisher, version)
  );
  CREATE TABLE version_stages (
    stage TEXT NOT NULL,
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (stage, publisher, version),
    FOREIGN KEY (publisher, version) REFERENCES versions (publisher, version)
  );
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
  );
  CREATE INDEX announcements_open ON announcements (status) WHERE status NOT IN ('silent', 'posted');
  CREATE TABLE adoptions (
    seq BIGSERIAL PRIMARY KEY,
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
  );
  CREATE INDEX adoptions_landed ON adoptions (consumer, stage, seq) WHERE state = 'landed';
  CREATE INDEX adoptions_unsettled ON adoptions (state) WHERE state = 'intended';
  -- One row: the fencing number, raised each time a replica takes leadership.
  CREATE TABLE leader (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL,
    holder TEXT,
    taken_at TEXT
  );
  INSERT INTO leader (id, epoch) VALUES (1, 0);
  `,
  // 2: the release lifecycle (SPEC §4): deprecations, whom they were told, and channel subscriptions.
  lifecycleMigration(''),
  // 3: durable commands (SPEC §5).
  commandsMigration('BIGSERIAL PRIMARY KEY', ''),
  // 4: leadership is a lease that ends when its holder stops renewing it (a frozen leader is
  // replaced), or at once when the holder's leader connection (backend_pid) is gone.
  `
  ALTER TABLE leader ADD COLUMN expires_at TIMESTAMPTZ, ADD COLUMN renewed_at TIMESTAMPTZ, ADD COLUMN backend_pid INTEGER;
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** NOTIFY channel on which the leader says recorded versions changed (payload: the schema). */
export const VERSIONS_CHANNEL = 'smvbot_versions';

/** Advisory lock keys, per schema so several smvbot installations can share a database. */
const LOCK_KEY = {
  migrate: `hashtextextended('smvbot:migrate:' || current_schema(), 0)`,
  leader: `hashtextextended('smvbot:leader:' || current_schema(), 0)`,
  consumer: `hashtextextended('smvbot:consumer:' || current_schema() || ':' || $1, 0)`,
};
export const LEADER_LOCK_KEY_SQL = LOCK_KEY.leader;

/** How long a leader's lease lasts without renewal (it renews every second). */
export const DEFAULT_LEASE_MS = 10_000;

/**
 * A transaction left open by a frozen process (SIGSTOP) holds its row locks, e.g. on the leader
 * row a new leader must update: the server ends such a session after this long.
 */
export const IDLE_IN_TRANSACTION_MS = 15_000;

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

/** Errors that mean "could not write now" (server gone, disk full, read-only), not a bug in a query. */
export function isPgWriteFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(08|53|57|58)/.test(code) || code === '25006') return true;
    if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code) || code === 'ENOTFOUND') return true;
  }
  const message = (error as Error | undefined)?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

function connectionConfig(url: string, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return { connectionString: url, application_name: 'smvbot', connectionTimeoutMillis: 10_000, keepAlive: true, ...extra };
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

  private constructor(opts: PostgresOptions, schema: string, pool: pg.Pool, lockPool: pg.Pool) {
    this.location = opts.location;
    this.schema = schema;
    this.#url = opts.url;
    this.#pool = pool;
    this.#lockPool = lockPool;
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

  // --- the port ---------------------------------------------------------------------------

  async initializedAt(): Promise<string | null> {
    return (await this.#read<{ value: string }>(`SELECT value FROM meta WHERE key = 'initialized_at'`))[0]?.value ?? null;
  }

  async markInitialized(at: string): Promise<void> {
    await this.#write((c) => c.query(`INSERT INTO meta (key, value) VALUES ('initialized_at', $1) ON CONFLICT (key) DO NOTHING`, [at]));
  }

  async probeWrite(at: string): Promise<void> {
    await this.#write((c) =>
      c.query(`INSERT INTO meta (key, value) VALUES ('last_write_probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [at]),
    );
  }

  async publisherKnown(publisher: string): Promise<boolean> {
    return (await this.#read('SELECT 1 FROM publishers WHERE name = $1', [publisher])).length > 0;
  }

  async eachKnownVersion(publisher: string, visit: (version: string, removed: boolean) => void): Promise<void> {
    const rows = await this.#read<{ version: string; removed: boolean }>('SELECT version, removed_at IS NOT NULL AS removed FROM versions WHERE publisher = $1', [publisher]);
    for (const row of rows) visit(row.version, row.removed);
  }

  async recordVersions(publisher: string, versions: readonly NewVersion[], opts: { channels: readonly string[]; silent: boolean; at: string }): Promise<void> {
    await this.#write(async (c) => {
      await c.query('INSERT INTO publishers (name, first_seen_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [publisher, opts.at]);
      const status: AnnouncementStatus = opts.silent ? 'silent' : 'pending';
      let added = 0;
      for (const v of versions) {
        const inserted = await c.query(
          `INSERT INTO versions (publisher, version, stages, modules, module_count, bytes, completed_at, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (publisher, version) DO NOTHING`,
          [publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, opts.at],
        );
        // Recording a known version again changes nothing: its announcements stay as they are.
        if (inserted.rowCount === 0) continue;
        added++;
        for (const stage of v.stages) {
          await c.query('INSERT INTO version_stages (stage, publisher, version, completed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
            stage,
            publisher,
            v.version,
            v.completedAt,
          ]);
        }
        const subscribed = await c.query<{ channel: string }>(
          `SELECT DISTINCT channel FROM subscriptions WHERE stage = '*' OR stage = ANY($1::text[]) ORDER BY channel`,
          [v.stages],
        );
        for (const channel of new Set([...opts.channels, ...subscribed.rows.map((r) => r.channel)])) {
          await c.query('INSERT INTO announcements (publisher, version, channel, status, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
            publisher,
            v.version,
            channel,
            status,
            opts.at,
          ]);
        }
      }
      if (added) await notifyVersionsChanged(c);
    });
  }

  async markRemoved(publisher: string, versions: readonly string[], at: string | null): Promise<void> {
    if (!versions.length) return;
    await this.#write(async (c) => {
      await c.query('UPDATE versions SET removed_at = $1 WHERE publisher = $2 AND version = ANY($3::text[])', [at, publisher, versions]);
      await notifyVersionsChanged(c);
    });
  }

  async getVersion(publisher: string, version: string): Promise<VersionRecord | undefined> {
    const row = (await this.#read<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.publisher = $1 AND v.version = $2`, [publisher, version]))[0];
    return row ? toVersionRecord(row) : undefined;
  }

  async versionsOfStage(stage: string, opts: { includeRemoved: boolean; limit?: number }): Promise<VersionSummary[]> {
    const rows = await this.#read<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = $1 ${opts.includeRemoved ? '' : 'AND v.removed_at IS NULL'}
       ORDER BY s.completed_at DESC, s.version DESC LIMIT $2`,
      [stage, opts.limit ?? null],
    );
    return rows.map(toVersionSummary);
  }

  async countPublishedOfStage(stage: string): Promise<number> {
    const rows = await this.#read<{ n: string }>(
      `SELECT count(*) AS n FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = $1 AND v.removed_at IS NULL`,
      [stage],
    );
    return Number(rows[0]!.n);
  }

  async countVersions(): Promise<number> {
    return Number((await this.#read<{ n: string }>('SELECT count(*) AS n FROM versions'))[0]!.n);
  }

  async pendingAnnouncements(limit = 1000): Promise<AnnouncementTask[]> {
    const rows = await this.#read<VersionRow & { channel: string; attempts: number }>(
      `SELECT a.channel, a.attempts, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.status = 'pending' AND v.removed_at IS NULL
       ORDER BY v.completed_at, v.version, a.channel LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ channel: row.channel, attempts: row.attempts, version: toVersionRecord(row) }));
  }

  /** None when this replica is not (or no longer) the leader: only the fencing number's holder claims. */
  async claimAnnouncements(keys: readonly AnnouncementKey[], at: string): Promise<AnnouncementKey[]> {
    if (!keys.length) return [];
    const claimed = await this.#write(async (c) => {
      if (!(await this.#holdsFence(c))) return [];
      const result = await c.query<AnnouncementKey>(
        `UPDATE announcements a SET status = 'in_flight', attempts = a.attempts + 1, updated_at = $1
         FROM unnest($2::text[], $3::text[], $4::text[]) AS k(publisher, version, channel)
         WHERE a.publisher = k.publisher AND a.version = k.version AND a.channel = k.channel AND a.status = 'pending'
         RETURNING a.publisher, a.version, a.channel`,
        [at, ...keyColumns(keys)],
      );
      return result.rows;
    });
    // In the order asked (RETURNING has none).
    const got = new Set(claimed.map(keyId));
    return keys.filter((key) => got.has(keyId(key)));
  }

  async #settle(status: AnnouncementStatus, keys: readonly AnnouncementKey[], ts: string | null, error: string | null, at: string, layout?: MessageLayout): Promise<void> {
    if (!keys.length) return;
    await this.#write((c) =>
      c.query(
        `UPDATE announcements a SET status = $1, ts = coalesce($2, a.ts), last_error = $3, updated_at = $4, layout = coalesce($8, a.layout)
         FROM unnest($5::text[], $6::text[], $7::text[]) AS k(publisher, version, channel)
         WHERE a.publisher = k.publisher AND a.version = k.version AND a.channel = k.channel`,
        [status, ts, error, at, ...keyColumns(keys), layout ? JSON.stringify(layout) : null],
      ),
    );
  }

  markPosted(keys: readonly AnnouncementKey[], ts: string, at: string, layout?: MessageLayout): Promise<void> {
    return this.#settle('posted', keys, ts, null, at, layout);
  }

  async postedMessagesOf(publisher: string, version: string): Promise<{ channel: string; ts: string }[]> {
    return this.#read<{ channel: string; ts: string }>(
      `SELECT channel, ts FROM announcements WHERE publisher = $1 AND version = $2 AND status = 'posted' AND ts IS NOT NULL ORDER BY channel`,
      [publisher, version],
    );
  }

  async messageContents(channel: string, ts: string): Promise<{ versions: { publisher: string; version: VersionRecord }[]; layout: MessageLayout | null }> {
    const rows = await this.#read<VersionRow & { layout: string | null }>(
      `SELECT a.layout, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.channel = $1 AND a.ts = $2 AND a.status = 'posted'
       ORDER BY v.completed_at, v.version`,
      [channel, ts],
    );
    const layout = rows.find((r) => r.layout !== null)?.layout;
    return { versions: rows.map((row) => ({ publisher: row.publisher, version: toVersionRecord(row) })), layout: layout ? (JSON.parse(layout) as MessageLayout) : null };
  }

  markRetry(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    return this.#settle('pending', keys, null, error, at);
  }

  markFailed(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    return this.#settle('failed', keys, null, error, at);
  }

  async markUnknown(keys: readonly AnnouncementKey[], reason: string, at: string): Promise<void> {
    if (!keys.length) return;
    await this.#write((c) =>
      c.query(
        `UPDATE announcements a SET status = 'unknown', last_error = $1, updated_at = $2
         FROM unnest($3::text[], $4::text[], $5::text[]) AS k(publisher, version, channel)
         WHERE a.publisher = k.publisher AND a.version = k.version AND a.channel = k.channel AND a.status IN ('in_flight', 'unknown')`,
        [reason, at, ...keyColumns(keys)],
      ),
    );
  }

  /** unknown → posted or pending; only the leader settles (as with claims). */
  async #settleUnknown(status: 'posted' | 'pending', key: AnnouncementKey, ts: string | null, note: string | null, at: string): Promise<boolean> {
    return this.#write(async (c) => {
      if (!(await this.#holdsFence(c))) return false;
      const result = await c.query(
        `UPDATE announcements SET status = $1, ts = coalesce($2, ts), last_error = $3, updated_at = $4
         WHERE publisher = $5 AND version = $6 AND channel = $7 AND status = 'unknown'`,
        [status, ts, note, at, key.publisher, key.version, key.channel],
      );
      return result.rowCount === 1;
    });
  }

  settleUnknownAsPosted(key: AnnouncementKey, ts: string, at: string): Promise<boolean> {
    return this.#settleUnknown('posted', key, ts, null, at);
  }

  settleUnknownAsNotPosted(key: AnnouncementKey, note: string, at: string): Promise<boolean> {
    return this.#settleUnknown('pending', key, null, note, at);
  }

  async reopenFailedPosts(failedBefore: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#write(async (c) => {
      if (!(await this.#holdsFence(c))) return [];
      const { rows } = await c.query<AnnouncementRow>(
        `UPDATE announcements SET status = 'pending', updated_at = $1 WHERE status = 'failed' AND updated_at <= $2 RETURNING *`,
        [at, failedBefore],
      );
      return rows.map(toAnnouncementRecord);
    });
  }

  /**
   * Only the leader settles: a post in flight belongs to the replica that claimed it, and once
   * this replica holds the fencing number every other claimant is gone or fenced off.
   */
  async settleInterruptedPosts(reason: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#write(async (c) => {
      if (!(await this.#holdsFence(c))) return [];
      const { rows } = await c.query<AnnouncementRow>(
        `UPDATE announcements SET status = 'unknown', last_error = $1, updated_at = $2 WHERE status = 'in_flight' RETURNING *`,
        [reason, at],
      );
      return rows.map(toAnnouncementRecord);
    });
  }

  async announcementsIn(statuses: readonly AnnouncementStatus[], limit: number): Promise<AnnouncementRecord[]> {
    const rows = await this.#read<AnnouncementRow>('SELECT * FROM announcements WHERE status = ANY($1::text[]) ORDER BY updated_at DESC LIMIT $2', [
      [...statuses],
      limit,
    ]);
    return rows.map(toAnnouncementRecord);
  }

  async recordAdoptionIntent(intent: AdoptionIntent): Promise<void> {
    await this.#write((c) =>
      c.query(
        `INSERT INTO adoptions (id, state, intended_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
         VALUES ($1, 'intended', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          intent.id,
          intent.intendedAt,
          intent.action,
          intent.consumer,
          intent.stage,
          intent.from,
          intent.to,
          intent.commit,
          intent.parent,
          intent.mode,
          intent.target,
          intent.user.id,
          intent.user.name,
          intent.channel,
        ],
      ),
    );
  }

  async settleAdoption(id: string, outcome: AdoptionSettlement, at: string): Promise<AdoptionRecord | null> {
    return this.#write(async (c) => {
      // An abandoned one may still become landed: its commit showed up on the remote late.
      await c.query(
        `UPDATE adoptions SET state = $1, settled_at = $2 WHERE id = $3 AND (state = 'intended' OR (state = 'abandoned' AND $1 = 'landed'))`,
        [outcome, at, id],
      );
      const row = (await c.query<AdoptionRow>('SELECT * FROM adoptions WHERE id = $1', [id])).rows[0];
      return row && row.state === 'landed' ? toAdoptionRecord(row) : null;
    });
  }

  async unsettledAdoptions(): Promise<AdoptionIntent[]> {
    return (await this.#read<AdoptionRow>(`SELECT * FROM adoptions WHERE state = 'intended' ORDER BY seq`)).map(toAdoptionIntent);
  }

  async abandonedAdoptionsSince(since: string): Promise<AdoptionIntent[]> {
    return (await this.#read<AdoptionRow>(`SELECT * FROM adoptions WHERE state = 'abandoned' AND settled_at >= $1 ORDER BY seq`, [since])).map(toAdoptionIntent);
  }

  async deprecate(d: Deprecation): Promise<boolean> {
    return this.#write(async (c) => {
      const result = await c.query(
        'INSERT INTO deprecations (stage, version, reason, user_id, user_name, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [d.stage, d.version, d.reason, d.by.id, d.by.name, d.at],
      );
      // Other replicas' cached answers (releases) mark deprecations: they drop them.
      await notifyVersionsChanged(c);
      return result.rowCount === 1;
    });
  }

  async undeprecate(stage: string, version: string): Promise<boolean> {
    return this.#write(async (c) => {
      await c.query('DELETE FROM deprecation_notices WHERE stage = $1 AND version = $2', [stage, version]);
      await notifyVersionsChanged(c);
      return (await c.query('DELETE FROM deprecations WHERE stage = $1 AND version = $2', [stage, version])).rowCount === 1;
    });
  }

  async deprecationsOf(stage: string): Promise<Deprecation[]> {
    return (await this.#read<DeprecationRow>('SELECT * FROM deprecations WHERE stage = $1 ORDER BY at DESC, version DESC', [stage])).map(toDeprecation);
  }

  async claimDeprecationNotice(key: DeprecationNoticeKey, at: string): Promise<boolean> {
    const result = await this.#write((c) =>
      c.query('INSERT INTO deprecation_notices (stage, version, consumer, channel, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        key.stage,
        key.version,
        key.consumer,
        key.channel,
        at,
      ]),
    );
    return result.rowCount === 1;
  }

  async subscribe(sub: Subscription): Promise<boolean> {
    const result = await this.#write((c) =>
      c.query('INSERT INTO subscriptions (channel, stage, user_id, user_name, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        sub.channel,
        sub.stage,
        sub.by.id,
        sub.by.name,
        sub.at,
      ]),
    );
    return result.rowCount === 1;
  }

  async unsubscribe(channel: string, stage: string): Promise<boolean> {
    return (await this.#write((c) => c.query('DELETE FROM subscriptions WHERE channel = $1 AND stage = $2', [channel, stage]))).rowCount === 1;
  }

  async subscriptionsOf(channel: string): Promise<Subscription[]> {
    return (await this.#read<SubscriptionRow>('SELECT * FROM subscriptions WHERE channel = $1 ORDER BY at, stage', [channel])).map(toSubscription);
  }
  async enqueueCommand(c: Omit<QueuedCommand, 'attempts'>): Promise<void> {
    await this.#write((client) =>
      client.query(
        `INSERT INTO commands (id, queue, request, user_id, channel, response_url, received_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (id) DO NOTHING`,
        [c.id, c.queue, JSON.stringify(c.request), c.userId, c.channelId, c.responseUrl, c.receivedAt],
      ),
    );
  }

  async claimCommands(owner: string, at: string, leaseUntil: string, limit: number): Promise<QueuedCommand[]> {
    // SKIP LOCKED: replicas claiming at once each take other queues' heads, never the same row.
    const claimable = CLAIMABLE_COMMANDS.replace('$at', '$3').replace('$limit', '$4') + ' FOR UPDATE SKIP LOCKED';
    const result = await this.#write((client) =>
      client.query<CommandRow & { seq: string }>(
        `UPDATE commands SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE seq IN (${claimable})
         RETURNING seq, id, queue, request, user_id, channel, response_url, received_at, attempts`,
        [owner, leaseUntil, at, limit],
      ),
    );
    return result.rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toQueuedCommand);
  }

  async renewCommandLeases(owner: string, ids: readonly string[], leaseUntil: string): Promise<string[]> {
    if (ids.length === 0) return [];
    const result = await this.#write((client) =>
      client.query<{ id: string }>(`UPDATE commands SET lease_until = $1 WHERE id = ANY($2) AND lease_owner = $3 AND state = 'pending' RETURNING id`, [
        leaseUntil,
        [...ids],
        owner,
      ]),
    );
    return result.rows.map((r) => r.id);
  }

  async finishCommand(id: string, owner: string, outcome: string, at: string): Promise<boolean> {
    const result = await this.#write((client) =>
      client.query(`UPDATE commands SET state = 'done', finished_at = $1, outcome = $2, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND state = 'pending'`, [
        at,
        outcome,
        id,
        owner,
      ]),
    );
    return result.rowCount === 1;
  }

  async forgetFinishedCommands(finishedBefore: string): Promise<number> {
    const result = await this.#write((client) => client.query(`DELETE FROM commands WHERE state = 'done' AND finished_at < $1`, [finishedBefore]));
    return result.rowCount ?? 0;
  }

  async commandBacklog(): Promise<{ pending: number; oldestReceivedAt: string | null }> {
    const [row] = await this.#read<{ pending: string; oldest: string | null }>(`SELECT count(*) AS pending, min(received_at) AS oldest FROM commands WHERE state = 'pending'`);
    return { pending: Number(row?.pending ?? 0), oldestReceivedAt: row?.oldest ?? null };
  }


  async adoptions(filter: AdoptionFilter = {}): Promise<AdoptionRecord[]> {
    const rows = await this.#read<AdoptionRow>(
      `SELECT * FROM adoptions WHERE state = 'landed'
       AND ($1::text IS NULL OR consumer = $1) AND ($2::text IS NULL OR stage = $2)
       ORDER BY settled_at DESC, seq DESC LIMIT $3`,
      [filter.consumer ?? null, filter.stage ?? null, filter.limit ?? null],
    );
    return rows.map(toAdoptionRecord);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fence = null;
    // Every change was committed or rolled back before close: a pool that ends badly loses nothing.
    await Promise.all([this.#pool.end(), this.#lockPool.end()]).catch(() => undefined);
  }
}

const VERSION_COLUMNS = 'v.publisher, v.version, v.stages, v.modules, v.module_count, v.bytes, v.completed_at, v.recorded_at, v.removed_at';

async function notifyVersionsChanged(c: pg.PoolClient): Promise<void> {
  // Delivered at commit, to every replica listening: their catalogs drop what they cached.
  await c.query(`SELECT pg_notify('${VERSIONS_CHANNEL}', current_schema())`);
}

/**
 * Run the migrations not yet applied, each in its own transaction, holding a session advisory
 * lock so replicas starting together apply each one exactly once. Returns the schema.
 */
async function migrate(url: string, location: string): Promise<string> {
  const client = new pg.Client(connectionConfig(url));
  client.on('error', () => undefined);
  await client.connect();
  try {
    const schema = (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]!.s;
    if (!schema) {
      throw new StateCorruptError(
        location,
        'its search_path names no schema that exists',
        'Create the schema (CREATE SCHEMA name) or fix the search_path in SMVBOT_DATABASE_URL, and start smvbot again.',
      );
    }
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY.migrate})`);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS smvbot_schema_version (version INTEGER NOT NULL)');
      let current = Number((await client.query<{ v: number | null }>('SELECT max(version) AS v FROM smvbot_schema_version')).rows[0]!.v ?? 0);
      if (current > MIGRATIONS.length) {
        throw new StateCorruptError(
          location,
          `it was written by a newer smvbot (schema version ${current}, this smvbot knows up to ${MIGRATIONS.length})`,
          'Upgrade smvbot, or restore the database from a backup made by this release.',
        );
      }
      for (; current < MIGRATIONS.length; current++) {
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[current]!);
          await client.query('DELETE FROM smvbot_schema_version');
          await client.query('INSERT INTO smvbot_schema_version (version) VALUES ($1)', [current + 1]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
    } finally {
      // Best effort: the server releases the lock when the session ends just below.
      await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY.migrate})`).catch(() => undefined);
    }
    return schema;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A server error's message and SQLSTATE, or the network error: never the URL or its password. */
export function describePgError(error: unknown): string {
  const e = error as { message?: string; code?: string };
  const message = (e?.message ?? String(error)).trim();
  return e?.code ? `${message} (${e.code})` : message;
}

/** Keys as three parallel arrays, for `unnest` (one statement however many versions a message holds). */
function keyColumns(keys: readonly AnnouncementKey[]): [string[], string[], string[]] {
  return [keys.map((k) => k.publisher), keys.map((k) => k.version), keys.map((k) => k.channel)];
}

function keyId(key: AnnouncementKey): string {
  return JSON.stringify([key.publisher, key.version, key.channel]);
}
