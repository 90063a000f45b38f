// SPEC §6 through the real bot: an adoption interrupted by a crash is settled against the remote at
// the next start, and a full data dir stops writes (503, named) without losing or duplicating anything.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { SqliteState } from '../src/infra/state/sqliteState.ts';
import { waitUntil } from './support/botProcess.ts';
import { fillDisk, mountTmpfs } from './support/fullDisk.ts';
import { announcementIn } from './support/stateDump.ts';
import { ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, CONSUMER, TEAM_B_CHANNEL, USER_CONF, World, git, removeSeededRemotes } from './support/botHarness.ts';

let world: World | undefined;
let bot: BotUnderTest | undefined;
const cleanups: (() => void)[] = [];
afterAll(removeSeededRemotes);
afterEach(async () => {
  await bot?.stop();
  for (const cleanup of cleanups.splice(0)) cleanup();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

/** A commit in a scratch clone of the remote, as the bot would make it; pushed only when asked. */
function botCommit(w: World, version: string, opts: { push: boolean }): { commit: string; parent: string } {
  const work = path.join(w.root, `scratch-${version}-${opts.push}`);
  git(['clone', '-q', w.remoteOf(), work]);
  const parent = git(['-C', work, 'rev-parse', 'HEAD']).trim();
  fs.writeFileSync(path.join(work, 'conf', 'smv-user-conf.props'), USER_CONF.replace('TCD.20160701.geo', version));
  git(['-C', work, 'add', '-A']);
  git([
    '-C', work, '-c', 'user.name=Bea Adopter', '-c', 'user.email=U0ADOPTER@users.slack.invalid', 'commit', '-q', '-m',
    `Adopt geo ${version} for ${CONSUMER}\n\nPrevious: TCD.20160701.geo\nAdopted-by: Bea Adopter (${ADOPTER})\n`,
  ]);
  const commit = git(['-C', work, 'rev-parse', 'HEAD']).trim();
  if (opts.push) git(['-C', work, 'push', '-q', 'origin', 'main']);
  return { commit, parent };
}

async function recordIntent(w: World, id: string, version: string, c: { commit: string; parent: string }): Promise<void> {
  const { store } = await SqliteState.open(w.dataDir);
  await store.recordAdoptionIntent({
    id,
    intendedAt: new Date().toISOString(),
    action: 'adopt',
    consumer: CONSUMER,
    stage: 'com.acme.geo',
    from: 'TCD.20160701.geo',
    to: version,
    commit: c.commit,
    parent: c.parent,
    mode: 'push',
    target: 'main',
    user: { id: ADOPTER, name: 'Bea Adopter' },
    channel: TEAM_B_CHANNEL,
  });
  await store.close();
}

describe('an adoption interrupted by a crash', () => {
  it('is recorded and told in its channel when its commit reached the remote, and abandoned when it did not', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    await bot.bot.stop();
    // What a kill -9 during two pushes leaves: intents recorded, one commit on the remote, one not.
    const landed = botCommit(world, 'TCD.20160802.geo', { push: true });
    const lost = botCommit(world, 'TCD.20160803.geo', { push: false });
    await recordIntent(world, 'landed-1', 'TCD.20160802.geo', landed);
    await recordIntent(world, 'lost-1', 'TCD.20160803.geo', lost);
    // A git child that outlived the killed bot, still working in the clone.
    const cloneDir = path.join(world.dataDir, 'repos', CONSUMER);
    fs.mkdirSync(cloneDir, { recursive: true });
    const leftover = spawn('sleep', ['60'], { cwd: cloneDir, stdio: 'ignore' });
    cleanups.push(() => leftover.kill('SIGKILL'));
    const leftoverGone = new Promise((resolve) => leftover.once('exit', resolve));

    await bot.startBot();
    expect(await bot.bot.reconciled).toMatchObject({ landed: 1, abandoned: 1, unknown: [] });
    await leftoverGone;

    const told = bot.slack.messages(TEAM_B_CHANNEL).map((m) => m.text);
    expect(told).toEqual([
      expect.stringMatching(
        new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160802\\.geo for ${CONSUMER} \\(was TCD\\.20160701\\.geo\\) — commit ${landed.commit.slice(0, 7)}.*restarted while pushing`),
      ),
    ]);
    const { reply } = await bot.command('history', { channel: TEAM_B_CHANNEL });
    expect(reply).toContain('TCD.20160802.geo');
    expect(reply).toContain(landed.commit.slice(0, 7));
    expect(reply).not.toContain('TCD.20160803.geo');
    expect((await bot.healthz()).body.problems).toEqual([]);

    // Settled for good: the next start finds nothing to reconcile and tells nobody again.
    await bot.restart();
    expect(await bot.bot.reconciled).toMatchObject({ landed: 0, abandoned: 0 });
    expect(bot.slack.messages(TEAM_B_CHANNEL)).toHaveLength(1);
  });

  it('a push the remote applies only after the restart settled it as abandoned is still recorded and told', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    await bot.bot.stop();
    // The remote's hook was still running when the bot died: at the restart the commit is not there yet.
    const late = botCommit(world, 'TCD.20160802.geo', { push: false });
    await recordIntent(world, 'late-1', 'TCD.20160802.geo', late);
    await bot.startBot();
    expect(await bot.bot.reconciled).toMatchObject({ landed: 0, abandoned: 1 });
    expect(await bot.bot.state.adoptions()).toEqual([]);

    // Then the remote applies it.
    git(['-C', path.join(world.root, 'scratch-TCD.20160802.geo-false'), 'push', '-q', 'origin', 'main']);
    expect(await bot.bot.reconcileNow()).toMatchObject({ landed: 1, abandoned: 0 });
    expect((await bot.bot.state.adoptions()).map((a) => a.commit)).toEqual([late.commit]);
    expect(bot.slack.messages(TEAM_B_CHANNEL).map((m) => m.text)).toEqual([expect.stringContaining(`adopted geo TCD.20160802.geo for ${CONSUMER}`)]);
    // Its announcement says so, in place, like after an adopt that was answered.
    await waitUntil('the announcement to show the adoption', () =>
      bot!.slack.messages(ANNOUNCE_CHANNEL).some((m) => m.edited && JSON.stringify(m.blocks).includes(`Adopted by ${CONSUMER} (<@${ADOPTER}>)`)),
      10_000,
    );
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toHaveLength(1);
    // Found once, told once.
    expect(await bot.bot.reconcileNow()).toMatchObject({ landed: 0, abandoned: 0 });
    expect(bot.slack.messages(TEAM_B_CHANNEL)).toHaveLength(1);
  });

  it('a remote that cannot be reached leaves it unsettled; the next start that reaches it settles it', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    await bot.bot.stop();
    const c = botCommit(world, 'TCD.20160802.geo', { push: true });
    await recordIntent(world, 'unreachable-1', 'TCD.20160802.geo', c);
    // The remote's path still exists (the config checks it) but holds no repository.
    const moved = `${world.remoteOf()}.moved`;
    fs.renameSync(world.remoteOf(), moved);
    fs.mkdirSync(world.remoteOf());

    await bot.startBot();
    const summary = await bot.bot.reconciled;
    expect(summary.unknown.map((i) => i.id)).toEqual(['unreachable-1']);
    expect(await bot.bot.state.adoptions()).toEqual([]);
    expect(await bot.bot.state.unsettledAdoptions()).toEqual([expect.objectContaining({ id: 'unreachable-1' })]);

    fs.rmdirSync(world.remoteOf());
    fs.renameSync(moved, world.remoteOf());
    await bot.restart();
    expect(await bot.bot.reconciled).toMatchObject({ landed: 1, unknown: [] });
    expect((await bot.bot.state.adoptions()).map((a) => a.commit)).toEqual([c.commit]);
  });
});

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a full data dir', () => {
  it('turns /healthz 503 naming the data dir, keeps answering reads, posts nothing, and recovers by itself when space returns', async () => {
    world = new World();
    cleanups.push(mountTmpfs(world.dataDir, '8m'));
    bot = await BotUnderTest.start(world);
    expect((await bot.healthz()).status).toBe(200);

    const filler = fillDisk(world.dataDir);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await expect(bot.bot.scanNow()).rejects.toThrow(/Cannot write the state in .*smvbot\.db.*rolled back/);
    const down = await bot.healthz();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false });
    expect(down.body.problems).toContainEqual({ kind: 'state-unwritable', detail: expect.stringContaining(world.dataDir) });
    // Nothing was recorded, so nothing was posted; reads still answer.
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toEqual([]);
    expect((await bot.command('releases geo')).reply).toContain('TCD.20160701.geo');

    fs.rmSync(filler);
    const up = await eventually(() => bot!.healthz(), (h) => h.status === 200, '/healthz to recover');
    expect(up.body).toMatchObject({ ok: true, problems: [] });
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 1, announced: 1 });
    await bot.bot.scanNow();
    expect(bot.slack.messages(ANNOUNCE_CHANNEL).map((m) => (m.metadata as { event_payload: { version: string } }).event_payload.version)).toEqual([
      'TCD.20160802.geo',
    ]);
  });

  it('scans that fail on every try (a full disk) are logged once, and once when they work again', async () => {
    world = new World();
    cleanups.push(mountTmpfs(world.dataDir, '8m'));
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    bot = await BotUnderTest.start(world, undefined, { watch: true, logger });
    const log = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; failedAgain?: number });
    const scanLines = () => log().filter((l) => /^scan (failed|works again)/.test(l.msg));
    // Each dir with a name no version may have is a new scan problem, logged when a scan sees it: proof that scan ran.
    const scanSees = async (name: string) => {
      fs.mkdirSync(path.join(world!.publishDir, name));
      await waitUntil(`a scan seeing "${name}"`, () => log().some((l) => l.msg.includes(`"${name}" is not a valid version name`)), 30_000);
    };

    const filler = fillDisk(world.dataDir);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await scanSees('bad name 1');
    await scanSees('bad name 2');
    await scanSees('bad name 3');
    expect(scanLines().map((l) => [l.level, l.msg])).toEqual([[50, expect.stringMatching(/^scan failed/)]]);

    fs.rmSync(filler);
    await scanSees('bad name 4');
    await waitUntil('scans to work again', () => scanLines().length === 2, 30_000);
    const [failed, works] = scanLines();
    expect(failed!.msg).toBe('scan failed (not logged again until it works again)');
    expect(works).toMatchObject({ level: 30, msg: 'scan works again' });
    expect(works!.failedAgain).toBeGreaterThanOrEqual(2);
    // What the failing scans could not record is announced now.
    await bot.slack.waitForCall('chat.postMessage', (c) => c.ok && JSON.stringify(c.args.metadata).includes('TCD.20160802.geo'));
  });

  it('a post Slack took while the state could not record it is settled once space returns, and never sent twice', async () => {
    world = new World();
    cleanups.push(mountTmpfs(world.dataDir, '8m'));
    bot = await BotUnderTest.start(world);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    let filler = '';
    // The disk fills while Slack is storing the message: "posted" cannot be written.
    bot.slack.setHandler('chat.postMessage', (args, { standIn }) => {
      filler = fillDisk(world!.dataDir);
      return { ok: true, channel: args.channel, ts: standIn.nextTs() };
    });
    const stored = () => bot!.slack.calls('chat.postMessage').filter((c) => c.ok);
    await expect(bot.bot.scanNow()).rejects.toThrow(/Cannot write the state/);
    bot.slack.setHandler('chat.postMessage', undefined);
    expect(stored()).toHaveLength(1);
    await expect(bot.bot.scanNow()).rejects.toThrow(/Cannot write the state/);

    fs.rmSync(filler);
    await bot.bot.scanNow();
    await bot.bot.scanNow();
    expect(stored()).toHaveLength(1);
    await bot.restart();
    expect(stored()).toHaveLength(1);
    expect(announcementIn(world.dataDir, { publisher: 'public-data', version: 'TCD.20160802.geo', channel: ANNOUNCE_CHANNEL })).toMatchObject({
      status: 'posted',
    });
  });
});
