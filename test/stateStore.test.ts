import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emptyState,
  JOURNAL_FILE_NAME,
  readStateOnDisk,
  openStateStore,
  STATE_FILE_NAME,
  StateFileCorruptError,
  type AdoptionRecord,
  type StoredVersion,
} from '../src/infra/stateStore.ts';

function storedVersion(version: string, overrides: Partial<StoredVersion> = {}): StoredVersion {
  return {
    version,
    stages: ['com.acme.geo'],
    modules: [
      { fqn: 'com.acme.geo.Zip', stage: 'com.acme.geo', bytes: 100 },
      { fqn: 'com.acme.geo.County', stage: 'com.acme.geo', bytes: 200 },
      { fqn: 'com.acme.geo.State', stage: 'com.acme.geo', bytes: 300 },
    ],
    bytes: 600,
    completedAt: '2024-08-02T10:00:00.000Z',
    recordedAt: '2024-08-02T10:01:00.000Z',
    announcements: { C0ANNOUNCE: { status: 'pending', attempts: 0, updatedAt: '2024-08-02T10:01:00.000Z' } },
    ...overrides,
  };
}

function adoption(id: string, consumer: string, stage: string, to: string): AdoptionRecord {
  return {
    id,
    at: new Date(Date.UTC(2024, 7, 2, 10, Number(id))).toISOString(),
    action: 'adopt',
    consumer,
    stage,
    from: null,
    to,
    commit: `abc${id}`,
    mode: 'push',
    user: { id: 'U0ADMIN', name: 'Ada Admin' },
  };
}

async function readState(dataDir: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(dataDir, STATE_FILE_NAME), 'utf8'));
}

describe('state store', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-state-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with empty state and creates smvbot.json', async () => {
    const store = await openStateStore(dataDir);
    expect(store.data).toEqual(emptyState());
    expect(store.file).toBe(path.join(dataDir, STATE_FILE_NAME));
    expect(await readState(dataDir)).toEqual(emptyState());
    await store.close();
  });

  it('persists versions, announcements, removals and adoptions across a reopen', async () => {
    const store = await openStateStore(dataDir);
    await store.recordVersion('public-data', storedVersion('TCD.20160802.geo'));
    await store.setAnnouncement('public-data', 'TCD.20160802.geo', 'C0ANNOUNCE', {
      status: 'posted',
      ts: '1722592800.000100',
      attempts: 1,
      updatedAt: '2024-08-02T10:02:00.000Z',
    });
    await store.markRemoved('public-data', 'TCD.20160802.geo', '2024-09-01T00:00:00.000Z');
    await store.appendAdoption(adoption('1', 'client-model', 'com.acme.geo', 'TCD.20160802.geo'));
    await store.markInitialized('2024-08-02T10:00:30.000Z');
    await store.close();

    const reopened = await openStateStore(dataDir);
    const stored = reopened.getVersion('public-data', 'TCD.20160802.geo');
    expect(stored?.announcements['C0ANNOUNCE']).toEqual({
      status: 'posted',
      ts: '1722592800.000100',
      attempts: 1,
      updatedAt: '2024-08-02T10:02:00.000Z',
    });
    expect(stored?.removedAt).toBe('2024-09-01T00:00:00.000Z');
    expect(Object.keys(reopened.getVersions('public-data'))).toEqual(['TCD.20160802.geo']);
    expect(reopened.getVersions('nobody')).toEqual({});
    expect(reopened.data.initializedAt).toBe('2024-08-02T10:00:30.000Z');
    expect(reopened.adoptions()).toHaveLength(1);
    await reopened.close();
  });

  it('re-recording a version keeps its announcement status (never re-announces)', async () => {
    const store = await openStateStore(dataDir);
    await store.recordVersion('public-data', storedVersion('v1'));
    await store.setAnnouncement('public-data', 'v1', 'C0ANNOUNCE', {
      status: 'posted',
      ts: '1.2',
      attempts: 1,
      updatedAt: '2024-08-02T10:02:00.000Z',
    });
    await store.recordVersion('public-data', storedVersion('v1', { bytes: 999 }));
    const stored = store.getVersion('public-data', 'v1');
    expect(stored?.bytes).toBe(999);
    expect(stored?.announcements['C0ANNOUNCE']?.status).toBe('posted');
    await store.close();
  });

  it('lists adoptions newest first, filtered by consumer and stage, with a limit', async () => {
    const store = await openStateStore(dataDir);
    await store.appendAdoption(adoption('1', 'client-model', 'com.acme.geo', 'v1'));
    await store.appendAdoption(adoption('2', 'other', 'com.acme.geo', 'v2'));
    await store.appendAdoption(adoption('3', 'client-model', 'com.acme.cms', 'v3'));
    await store.appendAdoption(adoption('4', 'client-model', 'com.acme.geo', 'v4'));
    expect(store.adoptions().map((a) => a.id)).toEqual(['4', '3', '2', '1']);
    expect(store.adoptions({ consumer: 'client-model' }).map((a) => a.id)).toEqual(['4', '3', '1']);
    expect(store.adoptions({ stage: 'com.acme.geo' }).map((a) => a.id)).toEqual(['4', '2', '1']);
    expect(store.adoptions({ consumer: 'client-model', stage: 'com.acme.geo', limit: 1 }).map((a) => a.id)).toEqual(['4']);
    await store.close();
  });

  it('saves every one of many concurrent updates', async () => {
    const store = await openStateStore(dataDir);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.recordVersion('public-data', storedVersion(`v${i}`))),
    );
    await store.close();
    const onDisk = (await readState(dataDir)) as { publishers: Record<string, { versions: object }> };
    expect(Object.keys(onDisk.publishers['public-data']!.versions)).toHaveLength(50);
  });

  it('writes a snapshot by replacing the file (temp + rename), leaving no temp file behind', async () => {
    const store = await openStateStore(dataDir);
    const file = path.join(dataDir, STATE_FILE_NAME);
    const before = (await stat(file)).ino;
    await store.update((d) => {
      d.initializedAt = '2024-01-01T00:00:00.000Z';
    });
    // A new inode means the file was swapped in by rename, never rewritten in place.
    expect((await stat(file)).ino).not.toBe(before);
    expect(await readdir(dataDir)).toEqual([STATE_FILE_NAME]);
    await store.close();
  });

  describe('journal: a change costs its own size, not the size of history', () => {
    it('appends small changes to the journal and leaves the snapshot as it was', async () => {
      const store = await openStateStore(dataDir);
      const file = path.join(dataDir, STATE_FILE_NAME);
      const snapshot = await readFile(file);
      await store.recordVersion('public-data', storedVersion('v1'));
      await store.appendAdoption(adoption('1', 'client-model', 'com.acme.geo', 'v1'));
      expect((await readFile(file)).equals(snapshot)).toBe(true);
      const lines = (await readFile(path.join(dataDir, JOURNAL_FILE_NAME), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { op: string }).op)).toEqual(['version', 'adoption']);
      // A restart sees both, even without a clean close.
      const onDisk = await readStateOnDisk(dataDir);
      expect(Object.keys(onDisk.publishers['public-data']!.versions)).toEqual(['v1']);
      expect(onDisk.adoptions.map((a) => a.id)).toEqual(['1']);
      await store.close();
    });

    it('folds the journal into the snapshot on close and on the next open', async () => {
      const store = await openStateStore(dataDir);
      await store.recordVersion('public-data', storedVersion('v1'));
      await store.close();
      expect(await readdir(dataDir)).toEqual([STATE_FILE_NAME]);
      expect(await readState(dataDir)).toMatchObject({ publishers: { 'public-data': { versions: { v1: { version: 'v1' } } } } });

      // A crash leaves the journal behind: the next open replays it and compacts.
      const crashed = await openStateStore(dataDir);
      await crashed.recordVersion('public-data', storedVersion('v2'));
      const reopened = await openStateStore(dataDir);
      expect(Object.keys(reopened.getVersions('public-data')).sort()).toEqual(['v1', 'v2']);
      expect(await readdir(dataDir)).toEqual([STATE_FILE_NAME]);
      await reopened.close();
    });

    it('replaying is idempotent (a crash between snapshot and journal removal duplicates nothing)', async () => {
      const store = await openStateStore(dataDir);
      await store.appendAdoption(adoption('1', 'client-model', 'com.acme.geo', 'v1'));
      const journal = await readFile(path.join(dataDir, JOURNAL_FILE_NAME));
      await store.close();
      // The snapshot already holds adoption 1; put the journal back as if its removal never happened.
      await writeFile(path.join(dataDir, JOURNAL_FILE_NAME), journal);
      const reopened = await openStateStore(dataDir);
      expect(reopened.adoptions().map((a) => a.id)).toEqual(['1']);
      await reopened.close();
    });

    it('drops a torn last line (a crash mid-append): that change never happened', async () => {
      const store = await openStateStore(dataDir);
      await store.recordVersion('public-data', storedVersion('v1'));
      await store.recordVersion('public-data', storedVersion('v2'));
      const journalFile = path.join(dataDir, JOURNAL_FILE_NAME);
      const text = await readFile(journalFile, 'utf8');
      await writeFile(journalFile, text.slice(0, text.length - 20));
      const reopened = await openStateStore(dataDir);
      expect(Object.keys(reopened.getVersions('public-data'))).toEqual(['v1']);
      await reopened.close();
    });

    it('a corrupt line in the middle stops start-up naming the journal, and nothing is touched', async () => {
      const store = await openStateStore(dataDir);
      await store.recordVersion('public-data', storedVersion('v1'));
      const journalFile = path.join(dataDir, JOURNAL_FILE_NAME);
      const broken = 'not json\n' + (await readFile(journalFile, 'utf8'));
      await writeFile(journalFile, broken);
      const snapshot = await readFile(path.join(dataDir, STATE_FILE_NAME));
      await expect(openStateStore(dataDir)).rejects.toThrow(new RegExp(`${JOURNAL_FILE_NAME}.*line 1 is not valid JSON`));
      await expect(openStateStore(dataDir)).rejects.toBeInstanceOf(StateFileCorruptError);
      expect(await readFile(journalFile, 'utf8')).toBe(broken);
      expect((await readFile(path.join(dataDir, STATE_FILE_NAME))).equals(snapshot)).toBe(true);
    });
  });

  it('refuses changes after close', async () => {
    const store = await openStateStore(dataDir);
    await store.close();
    await expect(store.markInitialized('2024-01-01T00:00:00.000Z')).rejects.toThrow(/closed/);
  });

  it('refuses to update a version that was never recorded', async () => {
    const store = await openStateStore(dataDir);
    await expect(
      store.setAnnouncement('public-data', 'nope', 'C0ANNOUNCE', { status: 'pending', attempts: 0, updatedAt: 'x' }),
    ).rejects.toThrow(/No recorded version nope for publisher public-data/);
    await store.close();
  });

  describe('a corrupt state file stops start-up and is left untouched', () => {
    const cases: [string, string, RegExp][] = [
      ['not JSON', '{"schemaVersion": 1, "publishers": {', /is not valid JSON/],
      ['empty', '', /is not valid JSON/],
      ['wrong shape', JSON.stringify({ schemaVersion: 1, initializedAt: null, publishers: [], adoptions: {} }), /does not have the shape of smvbot state/],
      ['JSON null', 'null', /does not have the shape of smvbot state/],
      [
        'bad announcement status',
        JSON.stringify({
          ...emptyState(),
          publishers: { p: { versions: { v1: { ...storedVersion('v1'), announcements: { C1: { status: 'sent', attempts: 0, updatedAt: 'x' } } } } } },
        }),
        /publishers\.p\.versions\.v1\.announcements\.C1\.status/,
      ],
      ['newer schema', JSON.stringify({ ...emptyState(), schemaVersion: 2 }), /written by a newer smvbot/],
    ];
    it.each(cases)('%s', async (_name, content, detail) => {
      const file = path.join(dataDir, STATE_FILE_NAME);
      await writeFile(file, content);
      const error = await openStateStore(dataDir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StateFileCorruptError);
      const message = (error as Error).message;
      expect(message).toContain(file);
      expect(message).toMatch(detail);
      expect(message).toContain('Restore it from a backup, or move it aside');
      expect(await readFile(file, 'utf8')).toBe(content);
      expect(await readdir(dataDir)).toEqual([STATE_FILE_NAME]);
    });
  });

  it('keeps fields it does not know about when saving', async () => {
    const file = path.join(dataDir, STATE_FILE_NAME);
    await writeFile(file, JSON.stringify({ ...emptyState(), note: 'from a later version' }));
    const store = await openStateStore(dataDir);
    await store.markInitialized('2024-01-01T00:00:00.000Z');
    await store.close();
    expect(await readState(dataDir)).toMatchObject({ note: 'from a later version', initializedAt: '2024-01-01T00:00:00.000Z' });
  });

  it('holds 10,000 versions of 3 modules and reopens them', async () => {
    const store = await openStateStore(dataDir);
    await store.update((d) => {
      const versions: Record<string, StoredVersion> = {};
      for (let i = 0; i < 10_000; i++) versions[`TCD.${20_000_000 + i}.geo`] = storedVersion(`TCD.${20_000_000 + i}.geo`);
      d.publishers['public-data'] = { versions };
    });
    const started = performance.now();
    await store.recordVersion('public-data', storedVersion('TCD.latest.geo'));
    const writeMs = performance.now() - started;
    await store.close();
    const size = (await stat(path.join(dataDir, STATE_FILE_NAME))).size;
    // Reported, not asserted: timings depend on the machine.
    console.info(`state with 10,001 versions x 3 modules: ${(size / 1e6).toFixed(1)} MB, one write ${writeMs.toFixed(0)} ms`);
    const reopened = await openStateStore(dataDir);
    expect(Object.keys(reopened.getVersions('public-data'))).toHaveLength(10_001);
    await reopened.close();
    expect(existsSync(path.join(dataDir, `.${STATE_FILE_NAME}.tmp`))).toBe(false);
  });
});
