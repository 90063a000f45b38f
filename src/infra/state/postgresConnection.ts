// What the PostgreSQL store's parts share: how a connection is made and what makes it fail, the
// advisory lock keys, the NOTIFY that tells other replicas versions changed, and the store's access.
import type pg from 'pg';

/** What the store's parts use: its transactions, its reads, and its fencing number. */
export interface PgAccess {
  /** One change, whole or not at all, on one connection. */
  write<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  read<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Inside a transaction: whether this replica's fencing number is still the current one. */
  holdsFence(client: pg.PoolClient): Promise<boolean>;
}

/** NOTIFY channel on which the leader says recorded versions changed (payload: the schema). */
export const VERSIONS_CHANNEL = 'smvbot_versions';

/** Advisory lock keys, per schema so several smvbot installations can share a database. */
export const LOCK_KEY = {
  migrate: `hashtextextended('smvbot:migrate:' || current_schema(), 0)`,
  consumer: `hashtextextended('smvbot:consumer:' || current_schema() || ':' || $1, 0)`,
};

/**
 * A transaction left open by a frozen process (SIGSTOP) holds its row locks, e.g. on the leader
 * row a new leader must update: the server ends such a session after this long.
 */
export const IDLE_IN_TRANSACTION_MS = 15_000;

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

export function connectionConfig(url: string, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return { connectionString: url, application_name: 'smvbot', connectionTimeoutMillis: 10_000, keepAlive: true, ...extra };
}

/** Tells every listening replica, at commit, that recorded versions changed: their catalogs drop what they cached. */
/** NOTIFY channel on which a follower asks the leader to scan now (payload: the schema). */
export const SCAN_CHANNEL = 'smvbot_scan';

export async function notifyVersionsChanged(c: pg.PoolClient): Promise<void> {
  await c.query(`SELECT pg_notify('${VERSIONS_CHANNEL}', current_schema())`);
}

/** A server error's message and SQLSTATE, or the network error: never the URL or its password. */
export function describePgError(error: unknown): string {
  const e = error as { message?: string; code?: string };
  const message = (e?.message ?? String(error)).trim();
  return e?.code ? `${message} (${e.code})` : message;
}
