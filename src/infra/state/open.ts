// The state store and who leads, opened from the configuration: the only module that knows SQLite
// from PostgreSQL. SQLite lives in the data dir (this process leads); PostgreSQL is migrated once
// for all replicas and leadership goes by advisory lock. The PostgreSQL driver is loaded only when
// it is configured, so a single SQLite process starts without it.
import { soleLeadership, type Leadership } from '../../core/leadership.ts';
import { StateCorruptError, type StatePort } from '../../core/statePort.ts';
import type { AppConfig } from '../config/index.ts';
import type { Logger } from '../runtime/logger.ts';
import { legacyFilesIn } from './legacyState.ts';
import type { PostgresState } from './postgresState.ts';
import { SqliteState } from './sqliteState.ts';

/** The configured PostgreSQL server cannot be used at start-up; the message says what to check. */
export class StateOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateOpenError';
  }
}

export interface OpenedState {
  state: StatePort;
  leadership: Leadership;
}

export interface OpenStateOptions {
  /** Told when another replica recorded versions (PostgreSQL), so cached answers are dropped. */
  onVersionsChanged: () => void;
  /** With PostgreSQL: how often a follower tries for leadership. */
  leaderPollMs?: number;
}

/**
 * Opens the configured store. Throws StateCorruptError (a store that exists but cannot be used),
 * StateUnwritableError, StateOpenError (PostgreSQL not usable) or the file system's own error.
 */
export async function openState(config: Pick<AppConfig, 'database' | 'dataDir'>, log: Logger, opts: OpenStateOptions): Promise<OpenedState> {
  if (config.database.kind === 'sqlite') {
    const opened = await SqliteState.open(config.dataDir, { log: log.child({ component: 'state' }) });
    if (opened.imported) {
      log.info(
        { from: opened.imported.from, keptAs: opened.imported.renamedTo, versions: opened.imported.versions, adoptions: opened.imported.adoptions },
        `imported the state of an earlier release into ${opened.store.location}; the old files are kept, renamed`,
      );
    }
    return { state: opened.store, leadership: soleLeadership() };
  }
  const { url, location } = config.database;
  // Loaded only when used: a single SQLite process starts without the PostgreSQL driver.
  const [{ describePgError }, { PostgresState }, { PostgresLeadership }] = await Promise.all([
    import('./postgresConnection.ts'),
    import('./postgresState.ts'),
    import('./postgresLeadership.ts'),
  ]);
  let store: PostgresState;
  try {
    store = await PostgresState.open({
      url,
      location,
      onPoolError: (error) => log.warn({ err: describePgError(error) }, 'an idle database connection failed; a new one is opened when needed'),
    });
  } catch (error) {
    if (error instanceof StateCorruptError) throw error;
    throw new StateOpenError(
      `Cannot use the PostgreSQL state at ${location}: ${describePgError(error)}. ` +
        'Check SMVBOT_DATABASE_URL (host, port, database, user and password) and that the server is running, then start smvbot again.',
    );
  }
  // Only for a notice: a data dir that cannot be listed fails loudly elsewhere (the lock, the clones).
  const legacy = await legacyFilesIn(config.dataDir).catch(() => []);
  if (legacy.length) {
    log.warn({ files: legacy }, `state files of an earlier release are in the data dir; they are not imported into PostgreSQL (${location}) and are left as they are`);
  }
  const leadership = await PostgresLeadership.start(store, {
    ...(opts.leaderPollMs ? { pollMs: opts.leaderPollMs } : {}),
    onVersionsChanged: opts.onVersionsChanged,
    log: log.child({ component: 'leadership' }),
  });
  log.info({ database: location, role: leadership.role() }, 'state in PostgreSQL');
  return { state: store, leadership };
}

/** What an operator is told about the store in `/healthz`: how to make it writable, how to list every failed announcement. */
export function stateOperatorHints(state: Pick<StatePort, 'kind' | 'location'>, dataDir: string): { unwritableFix: string; failedAnnouncementsQuery: string } {
  const query = "SELECT publisher, version, channel, status, last_error FROM announcements WHERE status IN ('failed', 'unknown')";
  return state.kind === 'postgresql'
    ? { unwritableFix: `Check that the PostgreSQL server at ${state.location} is up and has space`, failedAnnouncementsQuery: query }
    : { unwritableFix: `Free space in (or fix) the data dir ${dataDir}`, failedAnnouncementsQuery: `sqlite3 ${state.location} "${query}"` };
}
