// What only the PostgreSQL store has (SPEC §6, several replicas): migrations run once when
// replicas start together, newer schemas refused, the fencing number that stops an ex-leader's
// claims, leadership by advisory lock and its hand-over, consumer locks across processes, and
// versions-changed notifications. A real server; each test in a schema of its own.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError, StateUnwritableError } from '../src/core/statePort.ts';
import type { NewVersion } from '../src/domain/records.ts';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { leadershipProblem } from '../src/core/leadership.ts';
import { PostgresLeadership } from '../src/infra/state/postgresLeadership.ts';
import { PG_SCHEMA_VERSION, PostgresState } from '../src/infra/state/postgresState.ts';
import { waitUntil } from './support/botProcess.ts';
import { createSchema, requirePostgres, type TestSchema } from '../dev/world/postgres.ts';
import { pgAnnouncementIn } from './support/stateDump.ts';

const AT = '2024-08-02T10:01:00.000Z';
const KEY = { publisher: 'public-data', version: 'TCD.20160802.geo', channel: 'C0ANNOUNCE' };
const V: NewVersion = {
  version: 'TCD.20160802.geo',
  stages: ['com.acme.geo'],
  modules: [{ fqn: 'com.acme.geo.Zip', stage: 'com.acme.geo', bytes: 100 }],
  bytes: 100,
  completedAt: '2024-08-02T10:00:00.000Z',
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it holds (20 s at most). */
const until = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) => waitUntil(what, probe, 20_000);

/**
 * A TCP proxy to the server that the test can cut: once cut it ends every connection through it
 * and refuses new ones (counting them), as a network outage would, until restored.
 */
async function cuttableProxy(target: URL): Promise<{ url: string; attempts(): number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let cut = false;
  let attempts = 0;
  const server = net.createServer((client) => {
    if (cut) {
      attempts++;
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const via = new URL(target.href);
  via.hostname = '127.0.0.1';
  via.port = String((server.address() as net.AddressInfo).port);
  return {
    url: via.href,
    attempts: () => attempts,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('PostgreSQL state store', () => {
  let schema: TestSchema;
  const cleanups: (() => Promise<unknown>)[] = [];
  const open = async () => {
    const store = await PostgresState.open({ url: schema.url, location: `test schema ${schema.schema}` });
    cleanups.push(() => store.close());
    return store;
  };

  beforeEach(async () => {
    schema = await createSchema(await requirePostgres());
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await schema?.drop();
  });

  it('replicas starting together run each migration once and all open', async () => {
    const stores = await Promise.all(Array.from({ length: 6 }, () => open()));
    expect(await schema.query(`SELECT version FROM ${schema.schema}.smvbot_schema_version`)).toEqual([{ version: PG_SCHEMA_VERSION }]);
    expect(await schema.query(`SELECT id, epoch FROM ${schema.schema}.leader`)).toEqual([{ id: 1, epoch: '0' }]);
    // Each sees what another wrote.
    await stores[0]!.recordVersions('public-data', [V], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    expect(await stores[5]!.countVersions()).toBe(1);
  });

  it('a database written by a newer smvbot is refused, untouched', async () => {
    await (await open()).close();
    await schema.query(`UPDATE ${schema.schema}.smvbot_schema_version SET version = ${PG_SCHEMA_VERSION + 1}`);
    const error = await PostgresState.open({ url: schema.url, location: 'the test db' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateCorruptError);
    expect((error as Error).message).toMatch(/the test db.*written by a newer smvbot.*Upgrade smvbot/);
    expect(await schema.query(`SELECT version FROM ${schema.schema}.smvbot_schema_version`)).toEqual([{ version: PG_SCHEMA_VERSION + 1 }]);
  });

  it('an unreachable server is a clear error naming the location, never the password', async () => {
    const url = new URL(schema.url);
    url.port = '1';
    url.username = 'smvbot';
    url.password = 'sekret-db-password';
    const error = await PostgresState.open({ url: url.href, location: 'postgresql://127.0.0.1:1/test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateUnwritableError);
    expect((error as Error).message).toContain('postgresql://127.0.0.1:1/test');
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).not.toContain('sekret');
  });

  it('a leader that lost leadership without knowing it cannot claim: the fencing number refuses it', async () => {
    const [old, next] = [await open(), await open()];
    await old.recordVersions('public-data', [V, { ...V, version: 'TCD.20160803.geo' }], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    let fenced = 0;
    old.onFenced(() => fenced++);
    // Claims need leadership at all.
    expect(await old.claimAnnouncements([KEY], AT)).toEqual([]);
    const first = await old.takeLeadership('old', AT);
    expect(await old.claimAnnouncements([KEY], AT)).toEqual([KEY]);

    // Another replica takes over (the old one's lock was freed, say its connection was cut).
    expect(await next.takeLeadership('next', AT)).toBe(first + 1);
    const other = { ...KEY, version: 'TCD.20160803.geo' };
    expect(await old.claimAnnouncements([other], AT)).toEqual([]);
    expect(fenced).toBe(1);
    expect(old.fence).toBeNull();
    expect(await pgAnnouncementIn(schema, other)).toMatchObject({ status: 'pending', attempts: 0 });
    // The ex-leader's in-flight post is the new leader's to settle, not the ex-leader's.
    expect(await old.settleInterruptedPosts('x', AT)).toEqual([]);
    expect(await next.settleInterruptedPosts('interrupted', AT)).toEqual([expect.objectContaining({ ...KEY, status: 'unknown' })]);
    expect(await next.claimAnnouncements([other], AT)).toEqual([other]);
  });

  it('two replicas recording the same versions make one announcement row per (publisher, version, channel)', async () => {
    const [a, b] = [await open(), await open()];
    const versions = Array.from({ length: 20 }, (_, i) => ({ ...V, version: `v${i}` }));
    await Promise.all([
      a.recordVersions('public-data', versions, { channels: ['C1', 'C2'], silent: false, at: AT }),
      b.recordVersions('public-data', versions, { channels: ['C1', 'C2'], silent: false, at: AT }),
    ]);
    expect(await a.countVersions()).toBe(20);
    expect((await a.pendingAnnouncements()).length).toBe(40);
  });

  it('one consumer at a time across stores; other consumers do not wait', async () => {
    const [a, b, c] = [await open(), await open(), await open()];
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`+${name}`);
      await sleep(30);
      events.push(`-${name}`);
    };
    await Promise.all(Array.from({ length: 9 }, (_, i) => [a, b, c][i % 3]!.withConsumerLock('client-model', task(`t${i}`))));
    // Never two inside at once: every entry is followed by its own exit.
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(`-${events[i]!.slice(1)}`);
    expect(events).toHaveLength(18);

    // Held for client-model until other-model's work (on another store) has finished: it must not wait.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = a.withConsumerLock('client-model', () => held);
    expect(await b.withConsumerLock('other-model', async () => 'ran')).toBe('ran');
    release();
    await holding;
  });

  it('a follower cut off from the server logs it once, however often it tries, and once when it reaches it again', async () => {
    const leader = await PostgresLeadership.start(await open(), { pollMs: 50 });
    cleanups.push(() => leader.stop());
    const proxy = await cuttableProxy(new URL(schema.url));
    cleanups.push(() => proxy.close());
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const store = await PostgresState.open({ url: proxy.url, location: 'through the proxy' });
    cleanups.push(() => store.close());
    const follower = await PostgresLeadership.start(store, { pollMs: 50, log });
    cleanups.push(() => follower.stop());
    expect([leader.role(), follower.role()]).toEqual(['leader', 'follower']);
    const logged = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; failedAgain?: number });

    proxy.cut();
    await until('ten tries for leadership through the cut proxy', () => proxy.attempts() >= 10);
    expect(logged().map((l) => [l.level, l.msg])).toEqual([[40, 'trying for leadership failed (not logged again until it works again)']]);

    proxy.restore();
    await until('the follower to reach the server again', () => logged().length === 2);
    expect(logged()[1]).toMatchObject({ level: 30, msg: 'trying for leadership works again' });
    expect(logged()[1]!.failedAgain).toBeGreaterThanOrEqual(9);
    expect(follower.role()).toBe('follower');
  });

  it('a leader whose session lives on but which stops renewing (frozen) is replaced when its lease runs out; it cannot renew or claim after', async () => {
    const frozenStore = await open();
    await frozenStore.recordVersions('public-data', [V], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    // The frozen leader: its connection stays open (as under SIGSTOP), it took a 1 s lease and never renews it.
    const session = frozenStore.newClient();
    await session.connect();
    cleanups.push(() => session.end());
    const frozenEpoch = await frozenStore.takeLease(session, 'frozen replica', 1000);
    expect(frozenEpoch).not.toBeNull();

    const followerStore = await open();
    const follower = await PostgresLeadership.start(followerStore, { pollMs: 50, leaseMs: 1000 });
    cleanups.push(() => follower.stop());
    // While the lease holds, the live session keeps it (an advisory lock alone would keep it for ever).
    expect(follower.role()).toBe('follower');
    expect(await follower.report()).toMatchObject({ holder: 'frozen replica', self: false, leaseSeconds: 1 });

    await until('the follower to take the expired lease', () => follower.role() === 'leader');
    const report = await follower.report();
    expect(report).toMatchObject({ self: true, expiredForSeconds: 0 });
    expect(report.holder).toMatch(/ pid \d+$/);
    expect(leadershipProblem(report)).toBeNull();

    // The frozen one wakes: its renewal and its claims are refused, the new leader's are not.
    expect(await frozenStore.renewLease(session, 1000)).toBe(false);
    expect(await frozenStore.claimAnnouncements([KEY], AT)).toEqual([]);
    expect(await followerStore.claimAnnouncements([KEY], AT)).toEqual([KEY]);
  });

  it('/healthz report: a lease nobody renews for longer than it lasts is a problem naming its last holder', async () => {
    const holderStore = await open();
    const session = holderStore.newClient();
    await session.connect();
    cleanups.push(() => session.end());
    await holderStore.takeLease(session, 'stuck replica', 300);
    const observer = await PostgresLeadership.start(await open(), { pollMs: 50, leaseMs: 300 });
    // Stopped: it no longer tries for leadership, so the lease stays expired (no replica could take it).
    await observer.stop();
    const problem = await until('the lease to run out', async () => leadershipProblem(await observer.report()) ?? undefined);
    expect(problem.kind).toBe('no-leader');
    expect(problem.detail).toContain('stuck replica');
    // Renewed again: no problem.
    expect(await holderStore.renewLease(session, 60_000)).toBe(true);
    expect(leadershipProblem(await observer.report())).toBeNull();
  });

  it('leadership: one leader among replicas; when its session dies another takes over and the ex-leader is fenced', async () => {
    const stores = [await open(), await open(), await open()];
    const versionsSeen = [0, 0, 0];
    const replicas = await Promise.all(
      stores.map((store, i) => PostgresLeadership.start(store, { pollMs: 100, onVersionsChanged: () => versionsSeen[i]!++ })),
    );
    cleanups.push(() => Promise.all(replicas.map((r) => r.stop())));
    await until('one leader', () => replicas.filter((r) => r.role() === 'leader').length === 1);
    await sleep(300);
    expect(replicas.filter((r) => r.role() === 'leader')).toHaveLength(1);
    const leader = replicas.findIndex((r) => r.role() === 'leader');

    // Versions recorded by one replica are announced to the others' catalogs.
    const before = [...versionsSeen];
    await stores[leader]!.recordVersions('public-data', [V], { channels: ['C0ANNOUNCE'], silent: false, at: AT });
    await until('every replica told', () => versionsSeen.every((n, i) => n > before[i]!));

    // The leader's session ends as if its process died; its pool still works (it does not know yet).
    const epoch = (await schema.query<{ epoch: string }>(`SELECT epoch FROM ${schema.schema}.leader`))[0]!.epoch;
    await schema.query(`SELECT pg_terminate_backend(backend_pid) FROM ${schema.schema}.leader`);
    const next = await until('another leader', () => {
      const i = replicas.findIndex((r, j) => j !== leader && r.role() === 'leader');
      return i >= 0 ? i : undefined;
    });
    expect((await schema.query<{ epoch: string }>(`SELECT epoch FROM ${schema.schema}.leader`))[0]!.epoch).not.toBe(epoch);
    expect(await stores[leader]!.claimAnnouncements([KEY], AT)).toEqual([]);
    expect(await stores[next]!.claimAnnouncements([KEY], AT)).toEqual([KEY]);
    await until('the ex-leader to know', () => replicas[leader]!.role() === 'follower');

    // A leader that stops hands over at once.
    await replicas[next]!.stop();
    await until('a third leader', () => replicas.some((r, j) => j !== next && r.role() === 'leader'));
  });
});
