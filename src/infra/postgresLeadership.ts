// Leadership among replicas sharing a PostgreSQL state (SPEC §6): a session advisory lock held on
// a dedicated connection. The server frees it the moment that connection ends (process killed,
// connection cut, server restart); followers try to take it every `pollMs`. A replica that takes
// it raises the fencing number, so claims by a leader that lost its connection without noticing
// are refused by the database. The same connection LISTENs for "versions changed" notifications.
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Leadership, Role } from '../core/leadership.ts';
import { RecurringFailure } from '../core/problemBoard.ts';
import { LEADER_LOCK_KEY_SQL, VERSIONS_CHANNEL, type PostgresState } from './postgresState.ts';

export interface PostgresLeadershipOptions {
  /** How often a follower tries the lock and a leader checks its connection (default 1000 ms). */
  pollMs?: number;
  /** Called when another replica may have changed the recorded versions (and after a reconnect). */
  onVersionsChanged?: () => void;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * Server-side keepalive on the leader connection: a leader whose machine vanishes (no FIN) is
 * noticed by the server after idle + interval × count seconds, and its lock freed.
 */
export const KEEPALIVE = { idle: 5, interval: 2, count: 3 } as const;
export const DEFAULT_POLL_MS = 1000;
/**
 * Polls a replica sits out after losing leadership against its will: its connection or its
 * process just failed, so a healthy follower should take over rather than the same replica again.
 */
export const HOLD_OFF_POLLS = 5;

export class PostgresLeadership implements Leadership {
  #role: Role = 'follower';
  #client: pg.Client | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #stopped = false;
  #holdOffUntil = 0;
  readonly #listeners: ((role: Role) => void)[] = [];
  readonly #pollMs: number;
  readonly #holder = `${hostname()} pid ${process.pid}`;
  // A follower tries every poll: a server it cannot reach is logged once, and once when it can again.
  readonly #trying: RecurringFailure;

  private constructor(
    private readonly store: PostgresState,
    private readonly opts: PostgresLeadershipOptions,
  ) {
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.#trying = new RecurringFailure('trying for leadership', opts.log);
    // A claim that found the fencing number raised: another replica leads now.
    store.onFenced(() => {
      this.#dropClient();
      this.#stepDown('another replica raised the fencing number');
    });
  }

  /** Connects and makes the first attempt before resolving, so a lone replica starts as leader. */
  static async start(store: PostgresState, opts: PostgresLeadershipOptions = {}): Promise<PostgresLeadership> {
    const leadership = new PostgresLeadership(store, opts);
    await leadership.#tick();
    leadership.#schedule();
    return leadership;
  }

  role(): Role {
    return this.#role;
  }

  onChange(listener: (role: Role) => void): void {
    this.#listeners.push(listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking;
    const client = this.#client;
    this.#client = null;
    if (this.#role === 'leader') this.#setRole('follower');
    this.store.dropLeadership();
    if (client) {
      // Best effort: ending the session frees the lock anyway.
      await client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK_KEY_SQL})`).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = null;
        this.#schedule();
      });
    }, this.#pollMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (this.#role === 'follower' && Date.now() < this.#holdOffUntil) return;
      const client = this.#client ?? (await this.#connect());
      if (this.#role === 'leader') {
        // The lock lives as long as this session: a round trip says the session is alive.
        await client.query({ text: 'SELECT 1', query_timeout: Math.max(2 * this.#pollMs, 2000) } as pg.QueryConfig);
        return;
      }
      const { rows } = await client.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${LEADER_LOCK_KEY_SQL}) AS got`);
      this.#trying.succeeded();
      if (!rows[0]!.got) return;
      try {
        await this.store.takeLeadership(this.#holder, new Date().toISOString());
      } catch (error) {
        // Without a raised fencing number this replica must not lead: free the lock for another.
        await client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK_KEY_SQL})`).catch(() => undefined);
        throw error;
      }
      if (this.#stopped) return;
      this.opts.log?.info({ fence: this.store.fence }, 'this replica is now the leader: it scans and announces');
      this.#setRole('leader');
    } catch (error) {
      this.#dropClient();
      if (this.#role === 'leader') this.#stepDown(`lost the connection holding the leader lock (${(error as Error).message})`);
      else this.#trying.failed(error);
    }
  }

  async #connect(): Promise<pg.Client> {
    const client = this.store.newClient();
    client.on('error', () => {
      // The server ended the session (or the network did): whatever it held is gone.
      if (this.#client === client) {
        this.#dropClient();
        if (this.#role === 'leader') this.#stepDown('the connection holding the leader lock failed');
      }
    });
    client.on('notification', (message) => {
      if (message.channel === VERSIONS_CHANNEL && message.payload === this.store.schema) this.opts.onVersionsChanged?.();
    });
    await client.connect();
    await client.query(
      `SET tcp_keepalives_idle = ${KEEPALIVE.idle}; SET tcp_keepalives_interval = ${KEEPALIVE.interval}; SET tcp_keepalives_count = ${KEEPALIVE.count}`,
    );
    await client.query(`LISTEN ${VERSIONS_CHANNEL}`);
    this.#client = client;
    // Notifications sent while no connection listened are lost: assume something changed.
    this.opts.onVersionsChanged?.();
    return client;
  }

  #dropClient(): void {
    const client = this.#client;
    this.#client = null;
    // Already failed or given up: whatever it held the server frees with the session.
    if (client) void client.end().catch(() => undefined);
  }

  #stepDown(reason: string): void {
    this.store.dropLeadership();
    if (this.#role !== 'leader') return;
    this.#holdOffUntil = Date.now() + HOLD_OFF_POLLS * this.#pollMs;
    this.opts.log?.warn({ reason }, 'this replica is no longer the leader');
    this.#setRole('follower');
  }

  #setRole(role: Role): void {
    if (this.#role === role) return;
    this.#role = role;
    for (const listener of this.#listeners) listener(role);
  }
}
