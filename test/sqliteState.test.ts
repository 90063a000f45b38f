// The embedded state store (SPEC §6) on real SQLite files: what only SQLite has (WAL file,
// corrupt and newer files refused untouched, the one-time import of an earlier release's state,
// a full disk on a real tmpfs). What every store must do is in stateContract.test.ts.
import { fillDisk, mountTmpfs } from './support/fullDisk.ts';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError, StateUnwritableError } from '../src/core/statePort.ts';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { AT, KEY, newVersion } from './support/stateRecords.ts';
import { DATABASE_FILE, SCHEMA_VERSION, SqliteState } from '../src/infra/state/sqliteState.ts';
import { announcementIn, exportState } from './support/stateDump.ts';

async function open(dataDir: string): Promise<SqliteState> {
  return (await SqliteState.open(dataDir)).store;
}

describe('SQLite state store', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-state-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates smvbot.db in WAL mode at the current schema version, empty', async () => {
    const store = await open(dataDir);
    expect(store.location).toBe(path.join(dataDir, DATABASE_FILE));
    expect(await store.initializedAt()).toBeNull();
    expect(await store.countVersions()).toBe(0);
    await store.close();
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('a file that is not a database stops the open naming it, and is left as it was', async () => {
    const file = path.join(dataDir, DATABASE_FILE);
    writeFileSync(file, 'this is not sqlite'.repeat(100));
    const before = readFileSync(file);
    const error = await SqliteState.open(dataDir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StateCorruptError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/not a usable SQLite database.*has not changed it/);
    expect(readFileSync(file)).toEqual(before);
  });

  it('a database written by a newer smvbot is refused, untouched', async () => {
    const store = await open(dataDir);
    await store.close();
    const db = new Database(path.join(dataDir, DATABASE_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await expect(SqliteState.open(dataDir)).rejects.toThrow(/written by a newer smvbot.*Upgrade smvbot/);
    const check = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    check.close();
  });
});

describe('importing the state of the release before SQLite (smvbot.json + smvbot.journal)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-import-'));
    // Written by that release's own StateStore: a snapshot, a journal after it, a torn last line.
    cpSync(path.join(import.meta.dirname, 'fixtures', 'legacy-state'), dataDir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('imports everything once, keeps the old files renamed, and a post in flight becomes unknown (never re-sent)', async () => {
    const opened = await SqliteState.open(dataDir);
    expect(opened.imported).toMatchObject({ versions: 6, adoptions: 1 });
    expect(opened.imported!.renamedTo.map((f) => path.basename(f))).toEqual([
      expect.stringMatching(/^smvbot\.json\.imported-/),
      expect.stringMatching(/^smvbot\.journal\.imported-/),
    ]);
    const store = opened.store;
    expect(await store.initializedAt()).toBe('2016-07-01T10:00:00.000Z');
    expect(await store.countVersions()).toBe(6);
    const ann = (version: string) => announcementIn(dataDir, { publisher: 'public-data', version, channel: 'C0ANNOUNCE' });
    expect(ann('TCD.20160701.geo')).toMatchObject({ status: 'silent' });
    expect(ann('TCD.20160802.geo')).toMatchObject({ status: 'posted', ts: '1470132000.000100' });
    expect(ann('TCD.20160802.cms')).toMatchObject({ status: 'unknown', lastError: expect.stringContaining('not re-posted') });
    expect(ann('TCD.20160802.trial')).toMatchObject({ status: 'pending' });
    expect((await store.getVersion('public-data', 'TCD.20160701.trial'))!.removedAt).toBe('2016-08-03T00:00:00.000Z');
    expect(await store.adoptions()).toEqual([
      expect.objectContaining({ consumer: 'client-model', to: 'TCD.20160802.geo', at: '2016-08-02T12:00:00.000Z', user: { id: 'U0ADOPTER', name: 'Bea Adopter' } }),
    ]);
    // Only the still-published pending post is left to send.
    expect((await store.pendingAnnouncements()).map((t) => t.version.version)).toEqual(['TCD.20160802.trial']);
    await store.close();
    expect(readdirSync(dataDir).filter((f) => f === 'smvbot.json' || f === 'smvbot.journal')).toEqual([]);

    // A second start imports nothing again.
    const again = await SqliteState.open(dataDir);
    expect(again.imported).toBeNull();
    expect(await again.store.countVersions()).toBe(6);
    await again.store.close();
  });

  it('a crash after the import committed but before the rename only renames at the next start', async () => {
    const opened = await SqliteState.open(dataDir);
    await opened.store.close();
    // Put the old files back, as if the rename never happened.
    for (const renamed of opened.imported!.renamedTo) cpSync(renamed, renamed.replace(/\.imported-.*$/, ''));
    const again = await SqliteState.open(dataDir);
    expect(again.imported).toMatchObject({ versions: 0, adoptions: 0 });
    expect(await again.store.countVersions()).toBe(6);
    expect((await again.store.adoptions()).length).toBe(1);
    await again.store.close();
  });

  it('a corrupt old snapshot stops the start naming it, and nothing is written', async () => {
    writeFileSync(path.join(dataDir, 'smvbot.json'), '{"schemaVersion":1,');
    await expect(SqliteState.open(dataDir)).rejects.toThrow(/smvbot\.json cannot be used: it is not valid JSON/);
    expect(readFileSync(path.join(dataDir, 'smvbot.json'), 'utf8')).toBe('{"schemaVersion":1,');
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM versions').get() as { n: number }).n).toBe(0);
    db.close();
  });

  it('the exported state matches what was imported', async () => {
    const opened = await SqliteState.open(dataDir);
    await opened.store.close();
    const exported = exportState(dataDir);
    expect(exported.versions.map((v) => v.version).sort()).toEqual(
      ['TCD.20160701.cms', 'TCD.20160701.geo', 'TCD.20160701.trial', 'TCD.20160802.cms', 'TCD.20160802.geo', 'TCD.20160802.trial'],
    );
    expect(exported.adoptions).toEqual([expect.objectContaining({ state: 'landed' })]);
  });
});

describe('a full disk', () => {
  let mountPoint: string;
  let unmount: () => void;
  beforeEach(async () => {
    mountPoint = await mkdtemp(path.join(os.tmpdir(), 'smvbot-tmpfs-'));
    unmount = mountTmpfs(mountPoint, '4m');
  });
  afterEach(async () => {
    unmount();
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('rolls back the change that did not fit, keeps reads working, and writes again once space returns', async () => {
    const dataDir = path.join(mountPoint, 'data');
    mkdirSync(dataDir, { recursive: true });
    const store = await open(dataDir);
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    const filler = fillDisk(mountPoint);
    // Big enough not to fit in what is left.
    const many = Array.from({ length: 2000 }, (_, i) => newVersion(`v${i}`, { modules: Array.from({ length: 20 }, (_, m) => ({ fqn: `com.acme.geo.M${m}`, stage: 'com.acme.geo', bytes: m })) }));
    let failure: unknown = null;
    try {
      await store.recordVersions('public-data', many, { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StateUnwritableError);
    expect((failure as Error).message).toContain(dataDir);
    expect(store.writeProblem()).toContain('rolled back');
    // Reads still answer, and the change is wholly absent.
    expect(await store.countVersions()).toBe(1);
    expect(await store.getVersion('public-data', 'v0')).toBeUndefined();

    rmSync(filler);
    await store.probeWrite(AT);
    expect(store.writeProblem()).toBeNull();
    await store.recordVersions('public-data', many.slice(0, 10), { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect(await store.countVersions()).toBe(11);
    await store.close();
    const reopened = await open(dataDir);
    expect(await reopened.countVersions()).toBe(11);
    expect(announcementIn(dataDir, KEY)).toMatchObject({ status: 'pending' });
    await reopened.close();
    expect(existsSync(path.join(dataDir, DATABASE_FILE))).toBe(true);
  });

  it('a final checkpoint the disk refuses at close is logged once, and the next open has everything', async () => {
    const dataDir = path.join(mountPoint, 'data');
    mkdirSync(dataDir, { recursive: true });
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const { store } = await SqliteState.open(dataDir, { log });
    // In the write-ahead log only: folding it into smvbot.db needs room the disk no longer has.
    const many = Array.from({ length: 300 }, (_, i) => newVersion(`v${i}`));
    await store.recordVersions('public-data', many, { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    const filler = fillDisk(mountPoint);
    await store.close();

    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toContain('could not fold the write-ahead log into smvbot.db at shutdown');
    expect(String(warned[0]!.err)).toMatch(/full/i);
    expect(existsSync(path.join(dataDir, `${DATABASE_FILE}-wal`))).toBe(true);

    rmSync(filler);
    const reopened = await open(dataDir);
    expect(await reopened.countVersions()).toBe(300);
    await reopened.close();
  });
});
