// The embedded store's schema: versioned migrations, `PRAGMA user_version` = how many ran.
import type Database from 'better-sqlite3';
import { StateCorruptError } from '../../core/statePort.ts';
import { commandsMigration, freezesMigration, lifecycleMigration } from './stateRows.ts';

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
  // 4: PostgreSQL's leadership lease; one process holds a SQLite data dir, so nothing here. Kept so
  // both stores number their migrations alike.
  `-- nothing to do in SQLite`,
  // 5: change freezes (SPEC §4 /smv freeze).
  freezesMigration('STRICT'),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Run the migrations this file has not had yet, each in its own transaction. */
export function migrate(db: Database.Database, file: string): void {
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
