// The release lifecycle through the real bot (SPEC §3 minAgeHours, §4, §5): a consumer's soak
// time keeps versions younger than it from being adopted (admins may, and are told), and `latest`
// means the newest version old enough. Times come from the versions' own mtimes.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatTime } from '../src/domain/mrkdwn.ts';
import { ADMIN, ADOPTER, BotUnderTest, World, removeSeededRemotes } from './support/botHarness.ts';

afterAll(removeSeededRemotes);

const HOUR = 3_600_000;
const running: { world: World; bot: BotUnderTest }[] = [];
afterEach(async () => {
  for (const { world, bot } of running.splice(0)) {
    await bot.stop();
    world.cleanup();
  }
});

async function start(opts: ConstructorParameters<typeof World>[0]): Promise<{ world: World; bot: BotUnderTest }> {
  const world = new World(opts);
  const bot = await BotUnderTest.start(world);
  running.push({ world, bot });
  return { world, bot };
}

describe('soak time (minAgeHours)', () => {
  it('refuses a version younger than the soak time with the moment it becomes adoptable; `latest` takes the newest old enough', async () => {
    const { world, bot } = await start({ minAgeHours: 24 });
    const completed = Date.now() - 30 * HOUR;
    const young = Date.now() - 2 * HOUR;
    world.publish('com.acme.geo', 'TCD.20160801.geo', { mtime: completed });
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: young });
    await bot.bot.scanNow();
    const before = world.remoteLog();

    const refused = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER });
    expect(refused.visibility).toBe('ephemeral');
    expect(refused.reply).toContain('waits 24 hours before adopting a new version (minAgeHours)');
    expect(refused.reply).toContain(`becomes adoptable at ${formatTime(new Date(young + 24 * HOUR).toISOString())}`);
    expect(refused.reply).toContain('Nothing was changed');
    expect(world.remoteLog()).toEqual(before);

    const latest = await bot.command('adopt geo latest', { user: ADOPTER });
    expect(latest.reply).toContain('adopted geo TCD.20160801.geo for client-model');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160801.geo');
  });

  it('an admin may adopt inside the soak time, and the answer says the soak was skipped', async () => {
    const { world, bot } = await start({ minAgeHours: 48 });
    const young = Date.now() - 1 * HOUR;
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: young });
    await bot.bot.scanNow();

    const adopted = await bot.command('adopt geo TCD.20160802.geo', { user: ADMIN });
    expect(adopted.visibility).toBe('in_channel');
    expect(adopted.reply).toContain('adopted geo TCD.20160802.geo for client-model');
    expect(adopted.reply).toContain(`Soak time skipped by an admin: client-model waits 48 h (minAgeHours)`);
    expect(adopted.reply).toContain(formatTime(new Date(young + 48 * HOUR).toISOString()));
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('`latest` with nothing old enough is refused, naming the newest and when it becomes adoptable', async () => {
    const { world, bot } = await start({ minAgeHours: 24, initialVersions: [] });
    const young = Date.now() - 3 * HOUR;
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: young });
    await bot.bot.scanNow();
    const before = world.remoteLog();

    const refused = await bot.command('adopt geo latest', { user: ADOPTER });
    expect(refused.reply).toContain('No version of geo is old enough for `client-model` yet');
    expect(refused.reply).toContain(`TCD.20160802.geo, becomes adoptable at ${formatTime(new Date(young + 24 * HOUR).toISOString())}`);
    expect(world.remoteLog()).toEqual(before);
  });

  it('a consumer without a soak time adopts a version completed a minute ago', async () => {
    const { world, bot } = await start({});
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: Date.now() - 60_000 });
    await bot.bot.scanNow();
    const adopted = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER });
    expect(adopted.reply).toContain('adopted geo TCD.20160802.geo');
    expect(adopted.reply).not.toContain('Soak');
  });
});
