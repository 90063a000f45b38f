// The shared store's schema: versioned migrations, applied once however many replicas start together.
import pg from 'pg';
import { StateCorruptError } from '../../core/statePort.ts';
import { connectionConfig, LOCK_KEY } from './postgresConnection.ts';
import { commandsMigration, freezesMigration, lifecycleMigration } from './stateRows.ts';

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
  // 5: change freezes (SPEC §4 /smv freeze), shared by every replica.
  freezesMigration(''),
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Run the migrations not yet applied, each in its own transaction, holding a session advisory
 * lock so replicas starting together apply each one exactly once. Returns the schema.
 */
export async function migrate(url: string, location: string): Promise<string> {
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
