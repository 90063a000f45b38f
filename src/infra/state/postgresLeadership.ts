// Leadership among replicas sharing a PostgreSQL state (SPEC §6): a lease in the `leader` row,
// renewed by the leader every `pollMs` on a dedicated connection and lasting `leaseMs`. Followers
// try every `pollMs` and take it when it has expired (the leader stopped renewing: frozen, hung,
// cut off) or at once when the leader's connection is gone (process killed, connection cut). A
// replica that takes it raises the fencing number, so claims by a leader that lost it without
// noticing are refused by the database; a leader also counts itself a follower from the moment its
// own last renewal may have run out, until a renewal succeeds — a process that wakes from SIGSTOP
// does no leader work before it has asked. The same connection LISTENs for "versions changed".
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Leadership, LeadershipReport, Role } from '../../core/leadership.ts';
import { RecurringFailure } from '../../core/problemBoard.ts';
import { SCAN_CHANNEL, VERSIONS_CHANNEL } from './postgresConnection.ts';
import { DEFAULT_LEASE_MS, type LeaderLease, type PostgresState } from './postgresState.ts';

export interface PostgresLeadershipOptions {
  /** How often a follower tries for the lease and a leader renews it (default 1000 ms). */
  pollMs?: number;
  /** How long the lease lasts unrenewed: a frozen leader is replaced after this (default 10 s). */
  leaseMs?: number;
  /** Called when another replica may have changed the recorded versions (and after a reconnect). */
  onVersionsChanged?: () => void;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * Server-side keepalive on the leader connection: a leader whose machine vanishes (no FIN) is
 * noticed by the server after idle + interval × count seconds, its session ended, so a follower takes the lease at once.
 */
export const KEEPALIVE = { idle: 5, interval: 2, count: 3 } as const;
export const DEFAULT_POLL_MS = 1000;
/** A leader counts its lease as ended this much (at most a fifth of it) before the server does (clock rates differ a little). */
export const LEASE_MARGIN_MS = 1000;
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
  /** performance.now() until which this replica's lease surely holds (measured from before its last renewal was sent). */
  #validUntil = 0;
  readonly #leaseMs: number;
  readonly #listeners: ((role: Role) => void)[] = [];
  readonly #scanListeners: (() => void)[] = [];
  readonly #pollMs: number;
  readonly #holder = `${hostname()} pid ${process.pid}`;
  // A follower tries every poll: a server it cannot reach is logged once, and once when it can again.
  readonly #trying: RecurringFailure;

  private constructor(
    private readonly store: PostgresState,
    private readonly opts: PostgresLeadershipOptions,
  ) {
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.#leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
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

  /**
   * `leader` only while the lease surely holds: a leader whose renewals stopped (its process was
   * frozen, its event loop blocked) is a follower until it has renewed, and asks at once.
   */
  role(): Role {
    if (this.#role !== 'leader') return 'follower';
    if (performance.now() < this.#validUntil) return 'leader';
    this.#renewNow();
    return 'follower';
  }

  /** The lease's holder and expiry as the database has them. */
  lease(): Promise<LeaderLease> {
    return this.store.leaderLease();
  }

  async report(): Promise<LeadershipReport> {
    const lease = await this.store.leaderLease();
    const expiredForMs = lease.expiresAt === null ? 0 : Math.max(0, Date.parse(lease.now) - Date.parse(lease.expiresAt));
    return {
      holder: lease.holder,
      self: lease.holder === this.#holder && this.role() === 'leader',
      leaseSeconds: this.#leaseMs / 1000,
      expiresAt: lease.expiresAt,
      renewedAt: lease.renewedAt,
      expiredForSeconds: Math.round(expiredForMs / 100) / 10,
    };
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  #renewNow(): void {
    if (this.#stopped || this.#ticking) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = null;
      this.#schedule();
    });
  }

  onChange(listener: (role: Role) => void): void {
    this.#listeners.push(listener);
  }

  onScanRequested(listener: () => void): void {
    this.#scanListeners.push(listener);
  }

  requestScan(): Promise<void> {
    return this.store.requestScan();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking;
    const client = this.#client;
    this.#client = null;
    const wasLeader = this.#role === 'leader';
    if (wasLeader) this.#setRole('follower');
    if (client) {
      // Best effort: a lease not released ends with this session anyway (a follower sees it gone).
      if (wasLeader) await this.store.releaseLease(client).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
    this.store.dropLeadership();
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
      const sent = performance.now();
      if (this.#role === 'leader') {
        if (await this.store.renewLease(client as pg.ClientBase, this.#leaseMs)) {
          this.#validUntil = sent + this.#leaseMs - Math.min(LEASE_MARGIN_MS, this.#leaseMs / 5);
          return;
        }
        this.#stepDown('another replica took the lease (this one did not renew it in time)');
        return;
      }
      const epoch = await this.store.takeLease(client as pg.ClientBase, this.#holder, this.#leaseMs);
      this.#trying.succeeded();
      if (epoch === null) return;
      this.#validUntil = sent + this.#leaseMs - Math.min(LEASE_MARGIN_MS, this.#leaseMs / 5);
      if (this.#stopped) return;
      this.opts.log?.info({ fence: this.store.fence, leaseMs: this.#leaseMs }, 'this replica is now the leader: it scans and announces');
      this.#setRole('leader');
    } catch (error) {
      this.#dropClient();
      if (this.#role === 'leader') this.#stepDown(`lost the connection holding the lease (${(error as Error).message})`);
      else this.#trying.failed(error);
    }
  }

  async #connect(): Promise<pg.Client> {
    // A statement that hangs (a server that stopped answering) fails the tick rather than stall it.
    const limitMs = Math.max(2 * this.#pollMs, 2000);
    const client = this.store.newClient({ query_timeout: limitMs });
    client.on('error', () => {
      // The server ended the session (or the network did): whatever it held is gone.
      if (this.#client === client) {
        this.#dropClient();
        if (this.#role === 'leader') this.#stepDown('the connection holding the lease failed');
      }
    });
    client.on('notification', (message) => {
      if (message.payload !== this.store.schema) return;
      if (message.channel === VERSIONS_CHANNEL) this.opts.onVersionsChanged?.();
      if (message.channel === SCAN_CHANNEL && this.#role === 'leader') for (const f of this.#scanListeners) f();
    });
    await client.connect();
    await client.query(
      `SET tcp_keepalives_idle = ${KEEPALIVE.idle}; SET tcp_keepalives_interval = ${KEEPALIVE.interval}; SET tcp_keepalives_count = ${KEEPALIVE.count}`,
    );
    // Never wait long for the leader row (a frozen process's transaction may hold it): try again next poll.
    await client.query(`SET lock_timeout = ${limitMs}`);
    await client.query(`LISTEN ${VERSIONS_CHANNEL}`);
    await client.query(`LISTEN ${SCAN_CHANNEL}`);
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
    this.#validUntil = 0;
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
