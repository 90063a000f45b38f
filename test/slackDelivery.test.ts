// Slack delivery by class of failure (SPEC §4): auth errors stop all posting and turn /healthz to
// 503 with one error line; permanent channel errors are failed, reported, and tried again only
// after a restart; a request whose answer was lost (reset, timeout) is *unknown*: never re-sent
// blindly, settled from the channel's history where the bot may read it, else reported.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exportState } from '../src/infra/sqliteState.ts';
import { createLogger } from '../src/infra/logger.ts';
import { SlackStandIn } from '../standin/slackStandIn.ts';
import { ANNOUNCE_CHANNEL, APP_TOKEN, BOT_TOKEN, BotUnderTest, USERS, World, removeSeededRemotes, type BotOptions } from './support/botHarness.ts';

const VERSION = 'TCD.20160802.geo';

let world: World | undefined;
let bot: BotUnderTest | undefined;
afterAll(removeSeededRemotes);
afterEach(async () => {
  await bot?.stop();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

async function start(botOptions: BotOptions = {}, standIn?: { historyScope?: boolean }): Promise<{ world: World; bot: BotUnderTest }> {
  world = new World();
  const slack = new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS, historyScope: standIn?.historyScope ?? false });
  bot = await BotUnderTest.start(world, slack, botOptions);
  return { world, bot };
}

function capturingLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) };
}

function announcementOnDisk(w: World, channel = ANNOUNCE_CHANNEL) {
  return exportState(w.dataDir).versions.find((v) => v.version === VERSION)!.announcements[channel]!;
}

/** Messages in the channel as Slack holds them (what people see), not what the bot thinks. */
function storedAnnouncements(b: BotUnderTest) {
  return b.slack.messages(ANNOUNCE_CHANNEL).filter((m) => m.text?.includes(VERSION));
}

describe('auth errors', () => {
  it('stop all posting, turn /healthz to 503 with one error line; posting resumes once Slack accepts the token', async () => {
    const { lines, logger } = capturingLogger();
    const { world, bot } = await start({ logger });
    world.publish('com.acme.geo', VERSION);
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    bot.slack.setHandler('chat.postMessage', () => ({ ok: false, error: 'token_revoked' }));
    bot.slack.setHandler('auth.test', () => ({ ok: false, error: 'token_revoked' }));

    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 2, announced: 0, failedPosts: 1 });
    // The first refusal stops the scan: the second version is not even tried.
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    await bot.bot.scanNow();
    await bot.bot.scanNow();
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);

    const health = await bot.healthz();
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ok: false, status: 'slack-auth' });
    expect(health.body.problems).toContainEqual({ kind: 'slack-auth', detail: expect.stringContaining('token_revoked') });
    const errors = lines.filter((l) => JSON.parse(l).level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('SLACK_BOT_TOKEN');
    expect(announcementOnDisk(world).status).toBe('pending');

    bot.slack.setHandler('chat.postMessage', undefined);
    bot.slack.setHandler('auth.test', undefined);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 2, failedPosts: 0 });
    expect(storedAnnouncements(bot)).toHaveLength(1);
    const healthy = await bot.healthz();
    expect(healthy.status).toBe(200);
    expect(healthy.body.problems).not.toContainEqual(expect.objectContaining({ kind: 'slack-auth' }));
  });
});

describe('permanent channel errors', () => {
  it('not_in_channel: failed with the error, in /healthz with the channel id; not retried by scans, tried again after a restart', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', VERSION);
    bot.slack.failNext('chat.postMessage', 1, { ok: false, error: 'not_in_channel' });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 1 });
    await bot.bot.scanNow();
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    expect(announcementOnDisk(world)).toMatchObject({ status: 'failed', lastError: 'not_in_channel' });
    expect((await bot.healthz()).body.problems).toContainEqual({ kind: 'announcement-failed', detail: `public-data ${VERSION} in channel ${ANNOUNCE_CHANNEL}: not_in_channel` });

    // The operator invited the bot and restarted it: the start-up scan posts it, once.
    await bot.restart();
    expect(storedAnnouncements(bot)).toHaveLength(1);
    expect(announcementOnDisk(world)).toMatchObject({ status: 'posted', attempts: 2 });
    expect((await bot.healthz()).body.problems).toEqual([]);
  });
});

describe('unknown outcomes', () => {
  it('the answer is lost after Slack stored the message: not re-sent; without history scopes, reported for a person', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', VERSION);
    bot.slack.failNext('chat.postMessage', 1, { reset: 'after-store' });

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 1 });
    await bot.bot.scanNow();
    await bot.bot.scanNow();
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    expect(storedAnnouncements(bot)).toHaveLength(1);
    expect(announcementOnDisk(world).status).toBe('unknown');
    expect((await bot.healthz()).body.problems).toContainEqual({
      kind: 'announcement-unknown',
      detail: expect.stringMatching(new RegExp(`public-data ${VERSION.replace(/\./g, '\\.')} in channel ${ANNOUNCE_CHANNEL}: .*not re-posted.*channels:history`)),
    });
  });

  it('with the history scopes, a stored message is found by its metadata and recorded as posted with its ts', async () => {
    const { world, bot } = await start({}, { historyScope: true });
    world.publish('com.acme.geo', VERSION);
    bot.slack.failNext('chat.postMessage', 1, { reset: 'after-store' });
    await bot.bot.scanNow();
    expect(announcementOnDisk(world).status).toBe('unknown');

    await bot.bot.scanNow();
    const [stored, ...more] = storedAnnouncements(bot);
    expect(more).toEqual([]);
    expect(announcementOnDisk(world)).toMatchObject({ status: 'posted', ts: stored!.ts });
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    expect(bot.slack.calls('conversations.history')[0]!.args).toMatchObject({ channel: ANNOUNCE_CHANNEL, include_all_metadata: 'true' });
    expect((await bot.healthz()).body.problems).toEqual([]);
  });

  it('with the history scopes, a message Slack never stored is posted, exactly once', async () => {
    const { world, bot } = await start({}, { historyScope: true });
    world.publish('com.acme.geo', VERSION);
    bot.slack.failNext('chat.postMessage', 1, { reset: 'before-store' });
    await bot.bot.scanNow();
    expect(storedAnnouncements(bot)).toEqual([]);

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1 });
    await bot.bot.scanNow();
    expect(storedAnnouncements(bot)).toHaveLength(1);
    expect(announcementOnDisk(world).status).toBe('posted');
  });

  it('a Slack that never answers: the request times out, the outcome is unknown, nothing stalls', async () => {
    const { world, bot } = await start({ apiTimeoutMs: 1500 }, { historyScope: true });
    world.publish('com.acme.geo', VERSION);
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    bot.slack.failNext('chat.postMessage', 1, { hang: true });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 1 });
    const rows = exportState(world.dataDir).versions.filter((v) => v.version.startsWith('TCD.20160802')).map((v) => v.announcements[ANNOUNCE_CHANNEL]!);
    expect(rows.map((r) => r.status).sort()).toEqual(['pending', 'unknown']);
    expect(rows.find((r) => r.status === 'unknown')!.lastError).toContain('timed out');
    // The scan stopped posting after the lost answer: the other version waits, pending, not behind another timeout.
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    // Not re-sent blindly: the history says Slack does not have it, so it is posted once.
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 2 });
    expect(bot.slack.calls('chat.postMessage').filter((c) => c.ok)).toHaveLength(2);
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toHaveLength(2);
  });
});
