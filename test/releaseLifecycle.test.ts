// The release lifecycle through the real bot (SPEC §3 minAgeHours and owners, §4, §5): soak time
// (times come from the versions' own mtimes), deprecation by a publisher's owners with the pinned
// consumers told once and announcements updated in place, subscriptions, and "Adopted by" lines.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatTime } from '../src/slack/render/format.ts';
import type { StoredMessage } from '../dev/slack/slackStandIn.ts';
import { SqliteState } from '../src/infra/state/sqliteState.ts';
import { ADMIN, ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, BotWorlds, STRANGER, TEAM_B_CHANNEL, USERS, adoptButtons, removeSeededRemotes, replyText } from './support/botHarness.ts';

afterAll(removeSeededRemotes);

const HOUR = 3_600_000;
const bots = new BotWorlds();
afterEach(() => bots.stopAll());

describe('soak time (minAgeHours)', () => {
  it('refuses a version younger than the soak time with the moment it becomes adoptable; `latest` takes the newest old enough', async () => {
    const { world, bot } = await bots.start({ minAgeHours: 24 });
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
    const { world, bot } = await bots.start({ minAgeHours: 48 });
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
    const { world, bot } = await bots.start({ minAgeHours: 24, initialVersions: [] });
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
    const { world, bot } = await bots.start({});
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: Date.now() - 60_000 });
    await bot.bot.scanNow();
    const adopted = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER });
    expect(adopted.reply).toContain('adopted geo TCD.20160802.geo');
    expect(adopted.reply).not.toContain('Soak');
  });
});

const OWNER = 'U0OWNER';
const OTHER_CHANNEL = 'C0OTHERTEAM';

/** The one message in the channel that announces `version`. */
function announcementOf(bot: BotUnderTest, channel: string, version: string): StoredMessage {
  const found = bot.slack.messages(channel).filter((m) => JSON.stringify(m.metadata ?? {}).includes(version));
  if (found.length !== 1) throw new Error(`expected one announcement of ${version} in ${channel}, found ${found.length}`);
  return found[0]!;
}

function textOf(message: StoredMessage): string {
  return JSON.stringify(message.blocks ?? []) + message.text;
}

describe('deprecation', () => {
  it('a deprecation resumed after its worker died between recording it and answering counts as done: the announcement is updated, the answer says deprecated', async () => {
    const { world, bot } = await bots.start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    await bot.bot.stop();
    // What a worker killed -9 right after recording the deprecation leaves: the command taken (its lease
    // ran out), the deprecation in the state, no announcement update, no answer.
    const text = 'deprecate geo TCD.20160802.geo zip codes';
    const request = bot.commandRequest(text, { user: ADMIN, channel: ANNOUNCE_CHANNEL });
    const receivedAt = new Date(Date.now() - 2000).toISOString();
    const { store } = await SqliteState.open(world.dataDir);
    await store.enqueueCommand({ id: 'resumed-1', queue: 'stage:com.acme.geo', request: { kind: 'smv', text }, userId: ADMIN, channelId: ANNOUNCE_CHANNEL, responseUrl: request.responseUrl, receivedAt });
    expect(await store.claimCommands('dead-worker', receivedAt, new Date(Date.now() - 1).toISOString(), 1)).toHaveLength(1);
    await store.deprecate({ stage: 'com.acme.geo', version: 'TCD.20160802.geo', reason: 'zip codes', by: { id: ADMIN, name: USERS[ADMIN]! }, at: new Date(Date.now() - 1000).toISOString() });
    await store.close();

    await bot.startBot();
    const answer = await bot.slack.waitForResponse(request.responseUrl, 30_000);
    expect(replyText(answer.body)).toContain(`<@${ADMIN}> deprecated geo \`TCD.20160802.geo\`: “zip codes”`);
    expect(replyText(answer.body)).not.toContain('already deprecated');
    expect(replyText(answer.body)).toContain('This answer was delayed');
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated by the resumed deprecation');
    expect(textOf(announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo'))).toContain('zip codes');
  });

  it('a reason with angle brackets is escaped, not stripped: `<b>` reads `<b>` in the answer and the updated announcement', async () => {
    const { world, bot } = await bots.start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();

    const done = await bot.command('deprecate geo TCD.20160802.geo <b>zip</b> & county', { user: ADMIN, channel: ANNOUNCE_CHANNEL });

    expect(done.reply).toContain('“&lt;b&gt;zip&lt;/b&gt; &amp; county”');
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated after the deprecation');
    expect(textOf(announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo'))).toContain('&lt;b&gt;zip&lt;/b&gt; &amp; county');
  });

  it('owners deprecate: pinned consumers are told once with an Adopt button, announcements are updated, adopts refused, `latest` skips it', async () => {
    const { world, bot } = await bots.start({ publisherOwners: [OWNER], extraConsumers: [{ name: 'other-model', channels: [OTHER_CHANNEL] }] });
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    const announced = announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo');
    expect(adoptButtons(announced)).toHaveLength(1);

    // client-model moves to the new version; other-model stays on TCD.20160701.geo.
    const adopted = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER, channel: TEAM_B_CHANNEL });
    expect(adopted.reply).toContain('adopted geo TCD.20160802.geo for client-model');
    // The announcement says who adopted it, in place.
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated after the adopt');
    const afterAdopt = announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo');
    expect(afterAdopt.ts).toBe(announced.ts);
    expect(afterAdopt.edited).toBe(true);
    expect(textOf(afterAdopt)).toContain(`Adopted by client-model (<@${ADOPTER}>)`);
    expect(bot.slack.messages(ANNOUNCE_CHANNEL).filter((m) => !m.ephemeralTo)).toHaveLength(1);

    // Not an owner: refused, naming who may, and nothing changes.
    const refused = await bot.command('deprecate geo TCD.20160802.geo broken', { user: STRANGER, channel: TEAM_B_CHANNEL });
    expect(refused.visibility).toBe('ephemeral');
    expect(refused.reply).toContain('Only the owners of `public-data`');
    expect(refused.reply).toContain(`<@${OWNER}>`);
    expect(refused.reply).toContain('Nothing was changed');
    expect(textOf(announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo'))).not.toContain('Deprecated');

    bot.slack.clearRecords();
    const done = await bot.command('deprecate geo TCD.20160802.geo zip codes shifted by one', { user: OWNER, channel: ANNOUNCE_CHANNEL });
    expect(done.visibility).toBe('in_channel');
    expect(done.reply).toContain('deprecated geo `TCD.20160802.geo`: “zip codes shifted by one”');
    expect(done.reply).toContain('the newest good version is `TCD.20160701.geo`');
    expect(done.reply).toContain(`Told the consumers pinned to it: client-model in <#${TEAM_B_CHANNEL}>`);

    // The pinned consumer's channel is told, with a button for the newest good version; the other is not.
    const notices = bot.slack.messages(TEAM_B_CHANNEL).filter((m) => !m.ephemeralTo && m.text?.includes('deprecated geo'));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain('zip codes shifted by one');
    expect(adoptButtons(notices[0]!).map((b) => JSON.parse(b.value))).toEqual([{ stage: 'com.acme.geo', version: 'TCD.20160701.geo' }]);
    expect(bot.slack.messages(OTHER_CHANNEL).filter((m) => !m.ephemeralTo)).toEqual([]);
    // `/smv pins` flags the pin too.
    const pins = await bot.command('pins', { channel: TEAM_B_CHANNEL });
    expect(pins.reply).toContain('TCD.20160802.geo was deprecated by');
    expect(pins.reply).toContain('zip codes shifted by one');

    // The announcement is updated in place: the deprecation line, no Adopt button, still "Adopted by".
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated after the deprecation');
    const updated = announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo');
    expect(textOf(updated)).toContain('*Deprecated* by');
    expect(textOf(updated)).toContain('zip codes shifted by one');
    expect(textOf(updated)).toContain('Adopted by client-model');
    expect(adoptButtons(updated)).toEqual([]);

    // Deprecating again tells nobody again.
    const again = await bot.command('deprecate geo TCD.20160802.geo', { user: ADMIN, channel: ANNOUNCE_CHANNEL });
    expect(again.reply).toContain('was already deprecated');
    expect(bot.slack.messages(TEAM_B_CHANNEL).filter((m) => !m.ephemeralTo && m.text?.includes('deprecated geo'))).toHaveLength(1);

    // Not adoptable; `latest` skips it; releases mark it.
    const before = world.remoteLog();
    const adoptDeprecated = await bot.command('adopt geo TCD.20160802.geo', { user: ADMIN, channel: TEAM_B_CHANNEL });
    expect(adoptDeprecated.reply).toContain('was deprecated by');
    expect(adoptDeprecated.reply).toContain('zip codes shifted by one');
    expect(world.remoteLog()).toEqual(before);
    const releases = await bot.command('releases geo', { channel: TEAM_B_CHANNEL });
    expect(releases.reply).toContain('`TCD.20160802.geo` — ');
    expect(releases.reply).toMatch(/TCD\.20160802\.geo[^\n]*:warning: deprecated: zip codes shifted by one/);
    expect(releases.reply).toMatch(/TCD\.20160701\.geo[^\n]*latest/);
    const latest = await bot.command('adopt geo latest', { user: ADOPTER, channel: TEAM_B_CHANNEL });
    expect(latest.reply).toContain('adopted geo TCD.20160701.geo for client-model');

    // Taken back: adoptable again, and the announcement gets its button back.
    bot.slack.clearRecords();
    const undone = await bot.command('undeprecate geo TCD.20160802.geo', { user: OWNER, channel: ANNOUNCE_CHANNEL });
    expect(undone.reply).toContain('took back the deprecation of geo `TCD.20160802.geo`');
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated after the undeprecation');
    const restored = announcementOf(bot, ANNOUNCE_CHANNEL, 'TCD.20160802.geo');
    expect(textOf(restored)).not.toContain('Deprecated');
    expect(adoptButtons(restored)).toHaveLength(1);
  });

  it('refuses a version the stage never had, listing its newest', async () => {
    const { bot } = await bots.start({ publisherOwners: [OWNER] });
    const refused = await bot.command('deprecate geo TCD.20990101.geo', { user: OWNER });
    expect(refused.reply).toContain('geo has no recorded version TCD.20990101.geo, so there is nothing to deprecate');
    expect(refused.reply).toContain('`TCD.20160701.geo`');
  });
});

describe('subscriptions', () => {
  it('a subscribed channel gets each new version once, across a restart, until it unsubscribes', async () => {
    const { world, bot } = await bots.start({});
    const SUB = 'C0SUBSCRIBER';
    expect((await bot.command('subscribe', { channel: SUB })).reply).toContain('has no subscriptions');
    expect((await bot.command('subscribe geo', { channel: SUB, user: STRANGER })).reply).toContain(`<#${SUB}> now gets announcements of geo`);
    expect((await bot.command('subscribe geo', { channel: SUB })).reply).toContain('already gets announcements of geo');
    expect((await bot.command('subscribe', { channel: SUB })).reply).toContain('• geo — by Sam Stranger');

    world.publish('com.acme.geo', 'TCD.20160802.geo');
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    await bot.bot.scanNow();
    const posted = (channel: string) => bot.slack.messages(channel).filter((m) => !m.ephemeralTo).map((m) => JSON.stringify(m.metadata ?? {}));
    expect(posted(SUB)).toHaveLength(1);
    expect(posted(SUB)[0]).toContain('TCD.20160802.geo');
    expect(posted(SUB)[0]).not.toContain('TCD.20160802.cms');

    await bot.restart();
    world.publish('com.acme.geo', 'TCD.20160803.geo');
    await bot.bot.scanNow();
    expect(posted(SUB)).toHaveLength(2);
    expect(posted(SUB)[1]).toContain('TCD.20160803.geo');
    // The configured channel still gets everything once.
    expect(posted(ANNOUNCE_CHANNEL).filter((m) => m.includes('TCD.20160803.geo'))).toHaveLength(1);

    expect((await bot.command('unsubscribe geo', { channel: SUB })).reply).toContain('no longer gets announcements of geo');
    expect((await bot.command('unsubscribe geo', { channel: SUB })).reply).toContain('has no subscription to geo');
    world.publish('com.acme.geo', 'TCD.20160804.geo');
    await bot.bot.scanNow();
    expect(posted(SUB)).toHaveLength(2);
  });

  it('`*` subscribes to every stage; an unknown stage is refused with the known ones', async () => {
    const { world, bot } = await bots.start({});
    const SUB = 'C0EVERYTHING';
    expect((await bot.command('subscribe geography', { channel: SUB })).reply).toContain('Unknown stage `geography`');
    expect((await bot.command('subscribe *', { channel: SUB })).reply).toContain('now gets announcements of every stage');
    world.publish('com.acme.trial', 'TCD.20160802.trial');
    await bot.bot.scanNow();
    expect(bot.slack.messages(SUB).filter((m) => !m.ephemeralTo && JSON.stringify(m.metadata ?? {}).includes('TCD.20160802.trial'))).toHaveLength(1);
  });
});
