// The StatePort contract (SPEC §6), run against every store: the embedded SQLite file and
// PostgreSQL (a real server, a schema of its own per test). Every change whole or not at all,
// kept across a reopen, and the announcement and adoption state machines.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnnouncementKey, StatePort } from '../src/core/statePort.ts';
import { ANNOUNCEMENT_STATUSES, nextStatus, type AnnouncementEvent } from '../src/domain/announcementStatus.ts';
import type { AnnouncementRecord, AnnouncementStatus } from '../src/domain/records.ts';
import { AT, KEY, intent, newVersion } from './support/stateRecords.ts';
import { countTurns } from './support/eventLoop.ts';
import { PostgresState } from '../src/infra/state/postgresState.ts';
import { SqliteState } from '../src/infra/state/sqliteState.ts';
import { createSchema, requirePostgres, type TestSchema } from '../dev/world/postgres.ts';
import { announcementIn, pgAnnouncementIn } from './support/stateDump.ts';

/** One store kind: `open` opens (again) the same state, as a restarted process would. */
interface Subject {
  open(): Promise<StatePort>;
  /** One announcement as the database holds it (read directly, not through the store). */
  announcement(key: AnnouncementKey): Promise<AnnouncementRecord | undefined>;
  cleanup(): Promise<void>;
}

const kinds: { name: string; setup(ctx: { skip(note?: string): never }): Promise<Subject> }[] = [
  {
    name: 'SQLite',
    async setup() {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-state-'));
      return {
        open: async () => (await SqliteState.open(dataDir)).store,
        announcement: async (key) => announcementIn(dataDir, key),
        cleanup: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async setup() {
      const schema: TestSchema = await createSchema(await requirePostgres());
      const opened: StatePort[] = [];
      return {
        async open() {
          const store = await PostgresState.open({ url: schema.url, location: `test schema ${schema.schema}` });
          // The one replica here: it leads, so its claims carry the current fencing number.
          await store.takeLeadership('contract test', AT);
          opened.push(store);
          return store;
        },
        announcement: (key) => pgAnnouncementIn(schema, key),
        async cleanup() {
          for (const store of opened) await store.close();
          await schema.drop();
        },
      };
    },
  },
];

describe.each(kinds)('state store contract: $name', (kind) => {
  let subject: Subject;
  beforeEach(async (ctx) => {
    subject = await kind.setup(ctx);
  });
  afterEach(async () => {
    await subject?.cleanup();
  });

  it('starts empty', async () => {
    const store = await subject.open();
    expect(await store.initializedAt()).toBeNull();
    expect(await store.countVersions()).toBe(0);
    expect(await store.pendingAnnouncements()).toEqual([]);
    expect(await store.adoptions()).toEqual([]);
    await store.close();
  });

  it('keeps versions, announcements, removals and adoptions across a reopen', async () => {
    const store = await subject.open();
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE', 'C0SECOND'], silent: false, at: AT });
    expect(await store.claimAnnouncements([KEY], AT)).toEqual([KEY]);
    await store.markPosted([KEY], '1722592800.000100', AT);
    await store.markRemoved('public-data', ['TCD.20160802.geo'], '2024-09-01T00:00:00.000Z');
    await store.recordAdoptionIntent(intent('a1'));
    await store.settleAdoption('a1', 'landed', '2024-08-02T11:00:00.000Z');
    await store.markInitialized(AT);
    await store.close();

    const reopened = await subject.open();
    expect(await reopened.initializedAt()).toBe(AT);
    expect(await reopened.getVersion('public-data', 'TCD.20160802.geo')).toMatchObject({
      stages: ['com.acme.geo'],
      modules: [{ fqn: 'com.acme.geo.Zip', stage: 'com.acme.geo', bytes: 100 }, expect.anything()],
      removedAt: '2024-09-01T00:00:00.000Z',
    });
    expect(await subject.announcement(KEY)).toMatchObject({ status: 'posted', ts: '1722592800.000100', attempts: 1 });
    expect(await subject.announcement({ ...KEY, channel: 'C0SECOND' })).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await reopened.adoptions()).toEqual([
      expect.objectContaining({ id: 'a1', at: '2024-08-02T11:00:00.000Z', to: 'TCD.20160802.geo', user: { id: 'U0ADOPTER', name: 'Bea Adopter' } }),
    ]);
    await reopened.close();
  });

  it('records a first scan of thousands of versions all or nothing, letting other work and other changes wait their turn', async () => {
    const store = await subject.open();
    const many = Array.from({ length: 3000 }, (_, i) => newVersion(`TCD.${20000000 + i}.geo`));
    const broken = [...many.slice(0, 2999), newVersion('TCD.29999999.geo', { completedAt: undefined as unknown as string })];
    // Other work runs while the batch is recorded (a Slack ack must not wait seconds)…
    const turns = countTurns();
    const failing = store.recordVersions('public-data', broken, { channels: ['C0ANNOUNCE'], silent: true, at: AT });
    // …and a change asked for meanwhile is not swept away when the batch fails.
    const intentDuring = store.recordAdoptionIntent(intent('during'));
    await expect(failing).rejects.toThrow(/NOT NULL|not-null/i);
    await intentDuring;
    expect(await store.countVersions()).toBe(0);
    expect(await store.publisherKnown('public-data')).toBe(false);

    await store.recordVersions('public-data', many, { channels: ['C0ANNOUNCE'], silent: true, at: AT });
    expect(turns.stop()).toBeGreaterThan(3);
    await store.close();
    const reopened = await subject.open();
    expect(await reopened.countVersions()).toBe(3000);
    expect(await reopened.unsettledAdoptions()).toEqual([expect.objectContaining({ id: 'during' })]);
    await reopened.close();
  });

  it('records a batch of versions all or nothing', async () => {
    const store = await subject.open();
    const batch = [newVersion('v1'), newVersion('v2'), newVersion('v3', { completedAt: undefined as unknown as string })];
    await expect(store.recordVersions('public-data', batch, { channels: ['C0ANNOUNCE'], silent: true, at: AT })).rejects.toThrow(/NOT NULL|not-null/i);
    expect(await store.countVersions()).toBe(0);
    expect(await store.publisherKnown('public-data')).toBe(false);
    await store.close();
  });

  it('recording a known version again never resets its announcements', async () => {
    const store = await subject.open();
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    await store.claimAnnouncements([KEY], AT);
    await store.markPosted([KEY], '1.2', AT);
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect(await subject.announcement(KEY)).toMatchObject({ status: 'posted', ts: '1.2' });
    expect(await store.pendingAnnouncements()).toEqual([]);
    await store.close();
  });

  it('an announcement is claimed once; in flight at a restart it becomes unknown and is never pending again', async () => {
    const store = await subject.open();
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect((await store.pendingAnnouncements()).map((t) => [t.version.version, t.channel])).toEqual([['TCD.20160802.geo', 'C0ANNOUNCE']]);
    expect(await store.claimAnnouncements([KEY], AT)).toEqual([KEY]);
    expect(await store.claimAnnouncements([KEY], AT)).toEqual([]);
    expect(await store.pendingAnnouncements()).toEqual([]);
    await store.close(); // as a crash would leave it: in_flight

    const restarted = await subject.open();
    const settled = await restarted.settleInterruptedPosts('interrupted', AT);
    expect(settled).toEqual([expect.objectContaining({ ...KEY, status: 'unknown', lastError: 'interrupted' })]);
    expect(await restarted.claimAnnouncements([KEY], AT)).toEqual([]);
    expect(await restarted.announcementsIn(['failed', 'unknown'], 10)).toEqual([expect.objectContaining({ status: 'unknown' })]);
    await restarted.close();
  });

  it('a transient failure goes back to pending; a permanent one is failed with its reason and not retried', async () => {
    const store = await subject.open();
    await store.recordVersions('public-data', [newVersion('TCD.20160802.geo')], { channels: ['C0ANNOUNCE', 'C0GONE'], silent: false, at: AT });
    await store.claimAnnouncements([KEY], AT);
    await store.markRetry([KEY], 'internal_error', AT);
    const gone = { ...KEY, channel: 'C0GONE' };
    await store.claimAnnouncements([gone], AT);
    await store.markFailed([gone], 'channel_not_found', AT);
    expect((await store.pendingAnnouncements()).map((t) => [t.channel, t.attempts])).toEqual([['C0ANNOUNCE', 1]]);
    expect(await subject.announcement(gone)).toMatchObject({ status: 'failed', lastError: 'channel_not_found' });
    await store.close();
  });

  it('a combined message claims its versions at once (skipping any no longer pending) and settles them all from one outcome', async () => {
    const store = await subject.open();
    const names = ['TCD.20160802.geo', 'TCD.20160802.cms', 'TCD.20160802.trial', 'TCD.20160803.geo'];
    await store.recordVersions('public-data', names.map((n) => newVersion(n)), { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    const keys = names.map((version) => ({ ...KEY, version }));
    // Another pass already has the second one.
    expect(await store.claimAnnouncements([keys[1]!], AT)).toEqual([keys[1]]);
    const claimed = await store.claimAnnouncements(keys.slice(0, 3), AT);
    expect(claimed).toEqual([keys[0], keys[2]]);
    await store.markPosted(claimed, '1722592800.000200', AT);
    for (const key of claimed) expect(await subject.announcement(key)).toMatchObject({ status: 'posted', ts: '1722592800.000200', attempts: 1 });
    expect(await subject.announcement(keys[1]!)).toMatchObject({ status: 'in_flight', ts: null });

    // A lost answer leaves every version of the message unknown, with the one reason.
    expect(await store.claimAnnouncements([keys[3]!], AT)).toEqual([keys[3]]);
    await store.markUnknown([keys[1]!, keys[3]!], 'connection reset', AT);
    expect((await store.announcementsIn(['unknown'], 10)).map((a) => [a.version, a.lastError]).sort()).toEqual([
      ['TCD.20160802.cms', 'connection reset'],
      ['TCD.20160803.geo', 'connection reset'],
    ]);
    // markUnknown never turns a posted one back.
    await store.markUnknown(claimed, 'late', AT);
    expect(await subject.announcement(keys[0]!)).toMatchObject({ status: 'posted' });
    expect(await store.claimAnnouncements([], AT)).toEqual([]);
    await store.markRetry([], 'nothing', AT);
    await store.close();
  });

  it('moves an announcement only where the status table allows it, from every status', async () => {
    const store = await subject.open();
    const LATER = '2024-08-02T11:00:00.000Z';
    // Brings one announcement into `status` through the port, as the bot would.
    const into = async (status: AnnouncementStatus, key: AnnouncementKey): Promise<void> => {
      await store.recordVersions(key.publisher, [newVersion(key.version)], { channels: [key.channel], silent: status === 'silent', at: AT });
      if (status === 'silent' || status === 'pending') return;
      await store.claimAnnouncements([key], AT);
      if (status === 'posted') await store.markPosted([key], '1.1', AT);
      if (status === 'failed') await store.markFailed([key], 'not_in_channel', AT);
      if (status === 'unknown') await store.markUnknown([key], 'connection reset', AT);
    };
    const apply: Record<AnnouncementEvent, (key: AnnouncementKey) => Promise<unknown>> = {
      claim: (key) => store.claimAnnouncements([key], LATER),
      posted: (key) => store.markPosted([key], '2.2', LATER),
      retry: (key) => store.markRetry([key], 'internal_error', LATER),
      failed: (key) => store.markFailed([key], 'is_archived', LATER),
      unknown: (key) => store.markUnknown([key], 'timeout', LATER),
      interrupted: () => store.settleInterruptedPosts('interrupted', LATER),
      'found-in-history': (key) => store.settleUnknownAsPosted(key, '3.3', LATER),
      'absent-from-history': (key) => store.settleUnknownAsNotPosted(key, 'not in history', LATER),
      reopen: () => store.reopenFailedPosts(LATER, LATER),
    };
    for (const event of Object.keys(apply) as AnnouncementEvent[]) {
      const keys = ANNOUNCEMENT_STATUSES.map((status) => ({ ...KEY, version: `${event}.${status}` }));
      for (const [i, status] of ANNOUNCEMENT_STATUSES.entries()) await into(status, keys[i]!);
      for (const key of keys) await apply[event](key);
      for (const [i, status] of ANNOUNCEMENT_STATUSES.entries()) {
        const step = nextStatus(status, event);
        expect({ event, from: status, to: (await subject.announcement(keys[i]!))?.status }).toEqual({ event, from: status, to: step.ok ? step.status : status });
      }
    }
    await store.close();
  });

  it('announces versions in completion order and not while their dir is gone', async () => {
    const store = await subject.open();
    await store.recordVersions(
      'public-data',
      [newVersion('b', { completedAt: '2024-08-03T00:00:00.000Z' }), newVersion('a', { completedAt: '2024-08-01T00:00:00.000Z' }), newVersion('c')],
      { channels: ['C0ANNOUNCE'], silent: false, at: AT },
    );
    await store.markRemoved('public-data', ['c'], AT);
    expect((await store.pendingAnnouncements()).map((t) => t.version.version)).toEqual(['a', 'b']);
    await store.markRemoved('public-data', ['c'], null);
    expect((await store.pendingAnnouncements()).map((t) => t.version.version)).toEqual(['a', 'c', 'b']);
    await store.close();
  });

  it('lists a stage newest first, with or without removed versions, and counts it', async () => {
    const store = await subject.open();
    await store.recordVersions(
      'public-data',
      ['01', '02', '03'].map((d) => newVersion(`TCD.201608${d}.geo`, { completedAt: `2016-08-${d}T00:00:00.000Z` })),
      { channels: [], silent: true, at: AT },
    );
    await store.recordVersions('public-data', [newVersion('TCD.20160801.cms', { stages: ['com.acme.cms'] })], { channels: [], silent: true, at: AT });
    await store.markRemoved('public-data', ['TCD.20160802.geo'], AT);
    const names = async (includeRemoved: boolean, limit?: number) =>
      (await store.versionsOfStage('com.acme.geo', { includeRemoved, ...(limit ? { limit } : {}) })).map((v) => v.version);
    expect(await names(false)).toEqual(['TCD.20160803.geo', 'TCD.20160801.geo']);
    expect(await names(true)).toEqual(['TCD.20160803.geo', 'TCD.20160802.geo', 'TCD.20160801.geo']);
    expect(await names(true, 1)).toEqual(['TCD.20160803.geo']);
    expect(await store.countPublishedOfStage('com.acme.geo')).toBe(2);
    expect((await store.versionsOfStage('com.acme.geo', { includeRemoved: false }))[0]).toMatchObject({ moduleCount: 2, bytes: 300, removed: false });
    const known = new Map<string, boolean>();
    await store.eachKnownVersion('public-data', (version, removed) => known.set(version, removed));
    expect(known).toEqual(
      new Map([
        ['TCD.20160801.geo', false],
        ['TCD.20160802.geo', true],
        ['TCD.20160803.geo', false],
        ['TCD.20160801.cms', false],
      ]),
    );
    await store.close();
  });

  it('adoption intents: unsettled until settled; landed ones form the history, abandoned ones never appear', async () => {
    const store = await subject.open();
    await store.recordAdoptionIntent(intent('a1'));
    await store.recordAdoptionIntent(intent('a2', { consumer: 'other', stage: 'com.acme.cms', mode: 'branch', target: 'smvbot/adopt/cms/X' }));
    await store.recordAdoptionIntent(intent('a3'));
    expect((await store.unsettledAdoptions()).map((i) => i.id)).toEqual(['a1', 'a2', 'a3']);
    expect(await store.adoptions()).toEqual([]);

    expect(await store.settleAdoption('a1', 'landed', '2024-08-02T11:00:00.000Z')).toMatchObject({ id: 'a1', commit: 'a1'.padEnd(40, '0') });
    expect(await store.settleAdoption('a2', 'landed', '2024-08-02T12:00:00.000Z')).toMatchObject({ branch: 'smvbot/adopt/cms/X', mode: 'branch' });
    expect(await store.settleAdoption('a3', 'abandoned', AT)).toBeNull();
    expect(await store.unsettledAdoptions()).toEqual([]);
    expect((await store.abandonedAdoptionsSince('2024-01-01T00:00:00.000Z')).map((i) => i.id)).toEqual(['a3']);
    expect(await store.abandonedAdoptionsSince('2024-08-03T00:00:00.000Z')).toEqual([]);
    // A landed one stays landed.
    expect(await store.settleAdoption('a1', 'abandoned', AT)).toMatchObject({ id: 'a1' });
    expect((await store.adoptions()).map((a) => a.id)).toEqual(['a2', 'a1']);
    expect((await store.adoptions({ consumer: 'client-model' })).map((a) => a.id)).toEqual(['a1']);
    expect((await store.adoptions({ stage: 'com.acme.cms' })).map((a) => a.id)).toEqual(['a2']);
    expect((await store.adoptions({ limit: 1 })).map((a) => a.id)).toEqual(['a2']);
    // An abandoned one whose commit showed up on the remote late becomes landed, once.
    expect(await store.settleAdoption('a3', 'landed', '2024-08-02T13:00:00.000Z')).toMatchObject({ id: 'a3' });
    expect((await store.adoptions()).map((a) => a.id)).toEqual(['a3', 'a2', 'a1']);
    expect(await store.abandonedAdoptionsSince('2024-01-01T00:00:00.000Z')).toEqual([]);
    await store.close();
  });


  it('deprecations: kept once with who and why, listed per stage, taken back; each notice claimed once', async () => {
    const store = await subject.open();
    const bea = { id: 'U0OWNER', name: 'Olga Owner' };
    expect(await store.deprecate({ stage: 'com.acme.geo', version: 'V1', reason: 'bad zip codes', by: bea, at: AT })).toBe(true);
    // A second deprecation keeps the first one's reason and author.
    expect(await store.deprecate({ stage: 'com.acme.geo', version: 'V1', reason: 'other', by: { id: 'U0X', name: 'X' }, at: AT })).toBe(false);
    expect(await store.deprecate({ stage: 'com.acme.cms', version: 'V1', reason: null, by: bea, at: AT })).toBe(true);
    const key = { stage: 'com.acme.geo', version: 'V1', consumer: 'client-model', channel: 'C0TEAMB' };
    expect(await store.claimDeprecationNotice(key, AT)).toBe(true);
    expect(await store.claimDeprecationNotice(key, AT)).toBe(false);
    await store.close();

    const reopened = await subject.open();
    expect(await reopened.deprecationsOf('com.acme.geo')).toEqual([{ stage: 'com.acme.geo', version: 'V1', reason: 'bad zip codes', by: bea, at: AT }]);
    expect(await reopened.claimDeprecationNotice(key, AT)).toBe(false);
    expect(await reopened.undeprecate('com.acme.geo', 'V1')).toBe(true);
    expect(await reopened.undeprecate('com.acme.geo', 'V1')).toBe(false);
    expect(await reopened.deprecationsOf('com.acme.geo')).toEqual([]);
    expect((await reopened.deprecationsOf('com.acme.cms')).map((d) => d.version)).toEqual(['V1']);
    // Deprecated again later: told again.
    expect(await reopened.claimDeprecationNotice(key, AT)).toBe(true);
    await reopened.close();
  });

  it('subscriptions: a subscribed channel gets announcement rows for versions recorded afterwards, once, across a reopen', async () => {
    const store = await subject.open();
    const by = { id: 'U0ADOPTER', name: 'Bea Adopter' };
    await store.recordVersions('public-data', [newVersion('V0')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect(await store.subscribe({ channel: 'C0SUBGEO', stage: 'com.acme.geo', by, at: AT })).toBe(true);
    expect(await store.subscribe({ channel: 'C0SUBGEO', stage: 'com.acme.geo', by, at: AT })).toBe(false);
    expect(await store.subscribe({ channel: 'C0SUBALL', stage: '*', by, at: AT })).toBe(true);
    expect(await store.subscribe({ channel: 'C0SUBCMS', stage: 'com.acme.cms', by, at: AT })).toBe(true);
    // A subscriber that is also a configured channel gets one row, not two.
    expect(await store.subscribe({ channel: 'C0ANNOUNCE', stage: '*', by, at: AT })).toBe(true);
    await store.close();

    const reopened = await subject.open();
    expect((await reopened.subscriptionsOf('C0SUBGEO')).map((s) => s.stage)).toEqual(['com.acme.geo']);
    await reopened.recordVersions('public-data', [newVersion('V1')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    const pending = await reopened.pendingAnnouncements();
    expect(pending.filter((t) => t.version.version === 'V1').map((t) => t.channel).sort()).toEqual(['C0ANNOUNCE', 'C0SUBALL', 'C0SUBGEO']);
    // Subscribing later does not announce what was recorded before.
    expect(pending.filter((t) => t.version.version === 'V0').map((t) => t.channel)).toEqual(['C0ANNOUNCE']);
    expect(await reopened.unsubscribe('C0SUBGEO', 'com.acme.geo')).toBe(true);
    expect(await reopened.unsubscribe('C0SUBGEO', 'com.acme.geo')).toBe(false);
    await reopened.recordVersions('public-data', [newVersion('V2')], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect((await reopened.pendingAnnouncements()).filter((t) => t.version.version === 'V2').map((t) => t.channel).sort()).toEqual(['C0ANNOUNCE', 'C0SUBALL']);
    await reopened.close();
  });

  it('freezes: one per consumer, replaced whole (the replaced one returned), removed once, kept across a reopen', async () => {
    const store = await subject.open();
    const bea = { id: 'U0ADOPTER', name: 'Bea Adopter' };
    const ada = { id: 'U0ADMIN', name: 'Ada Admin' };
    const first = { consumer: 'client-model', by: bea, reason: 'quarter-end runs', frozenAt: AT, until: '2027-01-01T00:00:00.000Z' };
    expect(await store.freezeOf('client-model')).toBeNull();
    expect(await store.setFreeze(first)).toBeNull();
    // Another consumer's freeze is its own.
    expect(await store.setFreeze({ consumer: 'other-model', by: ada, reason: null, frozenAt: AT, until: null })).toBeNull();
    await store.close();

    const reopened = await subject.open();
    expect(await reopened.freezeOf('client-model')).toEqual(first);
    // An ended freeze is still stored as it was: whether it is in force is the reader's clock's call.
    const second = { consumer: 'client-model', by: ada, reason: null, frozenAt: '2026-02-01T00:00:00.000Z', until: null };
    expect(await reopened.setFreeze(second)).toEqual(first);
    expect(await reopened.freezeOf('client-model')).toEqual(second);
    expect(await reopened.removeFreeze('client-model')).toEqual(second);
    expect(await reopened.removeFreeze('client-model')).toBeNull();
    expect(await reopened.freezeOf('client-model')).toBeNull();
    expect(await reopened.freezeOf('other-model')).toEqual({ consumer: 'other-model', by: ada, reason: null, frozenAt: AT, until: null });
    await reopened.close();
  });

  it('runs work for one consumer under its lock and hands back what the work returns or throws', async () => {
    const store = await subject.open();
    expect(await store.withConsumerLock('client-model', async () => 42)).toBe(42);
    await expect(store.withConsumerLock('client-model', async () => Promise.reject(new Error('push refused')))).rejects.toThrow('push refused');
    // The lock is free again after a failure.
    expect(await store.withConsumerLock('client-model', async () => 'again')).toBe('again');
    await store.close();
  });

  it('durable commands: written once, claimed per queue in order, resumed after a lease runs out, finished once, across a reopen', async () => {
    const store = await subject.open();
    const command = (id: string, queue: string, at: string) => ({
      id,
      queue,
      request: { kind: 'smv' as const, text: `adopt geo ${id}` },
      userId: 'U0BEA',
      channelId: 'C0TEAMB',
      responseUrl: 'https://hooks.slack.com/commands/T0/1/x',
      receivedAt: at,
    });
    await store.enqueueCommand(command('a1', 'consumer:client-model', '2026-01-01T00:00:01.000Z'));
    await store.enqueueCommand(command('a1', 'consumer:client-model', '2026-01-01T00:00:01.000Z')); // delivered twice: kept once
    await store.enqueueCommand(command('a2', 'consumer:client-model', '2026-01-01T00:00:02.000Z'));
    await store.enqueueCommand(command('b1', 'stage:com.acme.geo', '2026-01-01T00:00:03.000Z'));
    expect(await store.commandBacklog()).toEqual({ pending: 3, oldestReceivedAt: '2026-01-01T00:00:01.000Z' });

    // One head per queue: a2 waits behind a1.
    const first = await store.claimCommands('worker-1', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:30.000Z', 10);
    expect(first.map((c) => [c.id, c.attempts])).toEqual([['a1', 1], ['b1', 1]]);
    expect(first[0]).toMatchObject({ request: { kind: 'smv', text: 'adopt geo a1' }, userId: 'U0BEA', channelId: 'C0TEAMB', responseUrl: 'https://hooks.slack.com/commands/T0/1/x' });
    expect(await store.claimCommands('worker-2', '2026-01-01T00:01:10.000Z', '2026-01-01T00:01:40.000Z', 10)).toEqual([]);
    expect(await store.renewCommandLeases('worker-1', ['a1', 'b1'], '2026-01-01T00:02:00.000Z')).toEqual(['a1', 'b1']);
    expect(await store.renewCommandLeases('worker-2', ['a1'], '2026-01-01T00:02:00.000Z')).toEqual([]);
    expect(await store.finishCommand('b1', 'worker-1', 'answered', '2026-01-01T00:01:20.000Z')).toBe(true);
    expect(await store.finishCommand('b1', 'worker-1', 'answered', '2026-01-01T00:01:21.000Z')).toBe(false);

    // worker-1 dies holding a1: once its lease has run out, another worker resumes it, still before a2.
    await store.close();
    const reopened = await subject.open();
    expect(await reopened.claimCommands('worker-2', '2026-01-01T00:01:59.000Z', '2026-01-01T00:03:00.000Z', 10)).toEqual([]);
    const resumed = await reopened.claimCommands('worker-2', '2026-01-01T00:02:01.000Z', '2026-01-01T00:03:00.000Z', 10);
    expect(resumed.map((c) => [c.id, c.attempts])).toEqual([['a1', 2]]);
    expect(await reopened.finishCommand('a1', 'worker-1', 'late', '2026-01-01T00:02:02.000Z')).toBe(false);
    expect(await reopened.finishCommand('a1', 'worker-2', 'answered', '2026-01-01T00:02:03.000Z')).toBe(true);
    expect((await reopened.claimCommands('worker-2', '2026-01-01T00:02:04.000Z', '2026-01-01T00:03:00.000Z', 10)).map((c) => c.id)).toEqual(['a2']);
    expect(await reopened.commandBacklog()).toEqual({ pending: 1, oldestReceivedAt: '2026-01-01T00:00:02.000Z' });
    // Finished ones are deleted once old enough; pending ones never.
    expect(await reopened.forgetFinishedCommands('2026-01-01T00:01:21.000Z')).toBe(1); // b1
    expect(await reopened.forgetFinishedCommands('2030-01-01T00:00:00.000Z')).toBe(1); // a1
    expect(await reopened.commandBacklog()).toEqual({ pending: 1, oldestReceivedAt: '2026-01-01T00:00:02.000Z' });
    await reopened.close();
  });
});
