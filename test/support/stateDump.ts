// What the bot remembers, read straight from its database (as an operator's query would), so a
// test sees the stored state without asking the store under test.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AnnouncementKey } from '../../src/core/statePort.ts';
import type { AdoptionRecord, AnnouncementRecord, Freeze, VersionRecord } from '../../src/domain/records.ts';
import { DATABASE_FILE } from '../../src/infra/state/sqliteState.ts';
import {
  toAdoptionRecord,
  toAnnouncementRecord,
  toFreeze,
  toVersionRecord,
  type AdoptionRow,
  type AnnouncementRow,
  type FreezeRow,
  type VersionRow,
} from '../../src/infra/state/stateRows.ts';
import type { TestSchema } from '../../dev/world/postgres.ts';

function readSqlite<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(path.join(path.resolve(dataDir), DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The whole SQLite state of a data dir as plain data, read without writing. */
export function exportState(dataDir: string): {
  initializedAt: string | null;
  versions: (VersionRecord & { announcements: Record<string, AnnouncementRecord> })[];
  adoptions: (AdoptionRecord & { state: string })[];
} {
  return readSqlite(dataDir, (db) => {
    const initializedAt = (db.prepare(`SELECT value FROM meta WHERE key = 'initialized_at'`).get() as { value: string } | undefined)?.value ?? null;
    const versions = (db.prepare('SELECT * FROM versions v ORDER BY completed_at, version').all() as VersionRow[]).map((row) => ({
      ...toVersionRecord(row),
      announcements: {} as Record<string, AnnouncementRecord>,
    }));
    const byKey = new Map(versions.map((v) => [`${v.publisher}\u0000${v.version}`, v]));
    for (const row of db.prepare('SELECT * FROM announcements').all() as AnnouncementRow[]) {
      const v = byKey.get(`${row.publisher}\u0000${row.version}`);
      if (v) v.announcements[row.channel] = toAnnouncementRecord(row);
    }
    const adoptions = (db.prepare('SELECT * FROM adoptions ORDER BY seq').all() as AdoptionRow[]).map((row) => ({ ...toAdoptionRecord(row), state: row.state }));
    return { initializedAt, versions, adoptions };
  });
}

/** One announcement in a data dir's SQLite state; undefined when there is none. */
export function announcementIn(dataDir: string, key: AnnouncementKey): AnnouncementRecord | undefined {
  return readSqlite(dataDir, (db) => {
    const row = db.prepare('SELECT * FROM announcements WHERE publisher = ? AND version = ? AND channel = ?').get(key.publisher, key.version, key.channel);
    return row ? toAnnouncementRecord(row as AnnouncementRow) : undefined;
  });
}

/** One announcement in a test schema's PostgreSQL state; undefined when there is none. */
export async function pgAnnouncementIn(schema: TestSchema, key: AnnouncementKey): Promise<AnnouncementRecord | undefined> {
  const [row] = await schema.query<AnnouncementRow>(`SELECT * FROM ${schema.schema}.announcements WHERE publisher = $1 AND version = $2 AND channel = $3`, [key.publisher, key.version, key.channel]);
  return row ? toAnnouncementRecord(row) : undefined;
}

/** A consumer's freeze as stored in a data dir's SQLite state (ended or not); null when none. */
export function freezeIn(dataDir: string, consumer: string): Freeze | null {
  return readSqlite(dataDir, (db) => {
    const row = db.prepare('SELECT * FROM freezes WHERE consumer = ?').get(consumer) as FreezeRow | undefined;
    return row ? toFreeze(row) : null;
  });
}

/**
 * Moves the end of a consumer's stored freeze (SQLite), as an operator's UPDATE would: the way a
 * test lets time pass without waiting. Throws when there is no freeze to move.
 */
export function setFreezeUntilIn(dataDir: string, consumer: string, until: string | null): void {
  const db = new Database(path.join(path.resolve(dataDir), DATABASE_FILE), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    if (db.prepare('UPDATE freezes SET until = ? WHERE consumer = ?').run(until, consumer).changes !== 1) throw new Error(`no freeze of ${consumer} in ${dataDir}`);
  } finally {
    db.close();
  }
}

/** The same in a test schema's PostgreSQL state. */
export async function pgSetFreezeUntil(schema: TestSchema, consumer: string, until: string | null): Promise<void> {
  const rows = await schema.query(`UPDATE ${schema.schema}.freezes SET until = $1 WHERE consumer = $2 RETURNING consumer`, [until, consumer]);
  if (rows.length !== 1) throw new Error(`no freeze of ${consumer} in schema ${schema.schema}`);
}
