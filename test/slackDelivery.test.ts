// Slack delivery by class of failure (SPEC §4): auth errors stop all posting and turn /healthz to
// 503 with one error line; permanent channel errors are failed, reported, and tried again only
// after a restart; a request whose answer was lost (reset, timeout) is *unknown*: never re-sent
// blindly, settled from the channel's history where the bot may read it, else reported. A combined
// announcement (a burst) is one message for several versions: one claim, one outcome, and its
// metadata lets the history settle every version in it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exportState } from './support/stateDump.ts';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { ANNOUNCE_CHANNEL, APP_TOKEN, BOT_TOKEN, BotUnderTest, USERS, World, adoptButtons, removeSeededRemotes, type BotOptions } from './support/botHarness.ts';
import { announcementsOf, healthOf, spawnBotProcess, waitUntil, type BotProcess } from './support/botProcess.ts';

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

const SECOND_CHANNEL = 'C0SECOND';

async function start(
  botOptions: BotOptions = {},
  standIn?: { historyScope?: boolean },
  worldOptions: ConstructorParameters<typeof World>[0] = {},
): Promise<{ world: World; bot: BotUnderTest }> {
  world = new World(worldOptions);
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
    const { world, bot } = await start({ logger }, {}, { publisherChannels: [ANNOUNCE_CHANNEL, SECOND_CHANNEL] });
    world.publish('com.acme.geo', VERSION);
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    bot.slack.setHandler('chat.postMessage', () => ({ ok: false, error: 'token_revoked' }));
    bot.slack.setHandler('auth.test', () => ({ ok: false, error: 'token_revoked' }));

    // Both versions go in one message per channel; the first channel's was refused (two announcements failed).
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 2, announced: 0, failedPosts: 2 });
    // The first refusal stops the scan: the second channel's message is not even tried.
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
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 4, failedPosts: 0 });
    expect(storedAnnouncements(bot)).toHaveLength(1);
    expect(bot.slack.messages(SECOND_CHANNEL)).toHaveLength(1);
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

  it("another app's message carrying the announcement's metadata does not settle it: the real announcement is posted, once", async () => {
    const { world, bot } = await start({}, { historyScope: true });
    world.publish('com.acme.geo', VERSION);
    // Slack never stored the bot's message, but the answer was lost: the outcome is unknown.
    bot.slack.failNext('chat.postMessage', 1, { reset: 'before-store' });
    await bot.bot.scanNow();
    expect(announcementOnDisk(world).status).toBe('unknown');
    // Meanwhile another app (or a person's workflow) posts a message with the same metadata.
    const metadata = { event_type: 'smv_version_published', event_payload: { publisher: 'public-data', version: VERSION, stages: ['com.acme.geo'], modules: 1 } };
    for (const author of [{ botId: 'B0OTHERAPP', appId: 'A0OTHERAPP' }, { user: 'U0STRANGER' }, { botId: 'B0OTHERAPP', appId: bot.slack.workspace.appId }]) {
      bot.slack.storeMessage({ channel: ANNOUNCE_CHANNEL, ts: bot.slack.nextTs(), text: `spoof ${VERSION}`, blocks: undefined, metadata, threadTs: undefined, ephemeralTo: undefined, edited: false, author });
    }

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1 });
    await bot.bot.scanNow();
    const own = bot.slack.calls('chat.postMessage').filter((c) => c.ok);
    expect(own).toHaveLength(1);
    expect(announcementOnDisk(world)).toMatchObject({ status: 'posted', ts: own[0]!.response!.ts });
    expect(bot.slack.calls('conversations.history').length).toBeGreaterThan(0);
  });

  it('a Slack that never answers: the request times out, the outcome is unknown, nothing stalls', async () => {
    const { world, bot } = await start({ apiTimeoutMs: 1500 }, { historyScope: true }, { publisherChannels: [ANNOUNCE_CHANNEL, SECOND_CHANNEL] });
    world.publish('com.acme.geo', VERSION);
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    bot.slack.failNext('chat.postMessage', 1, { hang: true });
    // The first channel's message (both versions) hangs.
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 2 });
    const rows = (channel: string) =>
      exportState(world.dataDir).versions.filter((v) => v.version.startsWith('TCD.20160802')).map((v) => v.announcements[channel]!);
    const [hung, waiting] = bot.slack.calls('chat.postMessage')[0]!.args.channel === ANNOUNCE_CHANNEL ? [ANNOUNCE_CHANNEL, SECOND_CHANNEL] : [SECOND_CHANNEL, ANNOUNCE_CHANNEL];
    expect(rows(hung).map((r) => r.status)).toEqual(['unknown', 'unknown']);
    for (const r of rows(hung)) expect(r.lastError).toContain('timed out');
    // The scan stopped posting after the lost answer: the other channel waits, pending, not behind another timeout.
    expect(rows(waiting!).map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    // Not re-sent blindly: the history says Slack does not have it, so it is posted once.
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 4 });
    expect(bot.slack.calls('chat.postMessage').filter((c) => c.ok)).toHaveLength(2);
    for (const channel of [ANNOUNCE_CHANNEL, SECOND_CHANNEL]) {
      const [message, ...more] = bot.slack.messages(channel);
      expect(more).toEqual([]);
      expect(message!.text).toMatch(/^2 new releases: .*TCD\.20160802\.cms.*TCD\.20160802\.geo|^2 new releases: .*TCD\.20160802\.geo.*TCD\.20160802\.cms/);
      expect(rows(channel).map((r) => [r.status, r.ts])).toEqual([
        ['posted', message!.ts],
        ['posted', message!.ts],
      ]);
    }
  });
});

describe('a combined announcement', () => {
  it('lost after Slack stored it: with the history scopes every version in it is found by the metadata and posted with its ts', async () => {
    const { world, bot } = await start({}, { historyScope: true });
    world.publishAll('TCD.20160802');
    bot.slack.failNext('chat.postMessage', 1, { reset: 'after-store' });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 3 });
    const rows = () => exportState(world.dataDir).versions.filter((v) => v.version.startsWith('TCD.20160802')).map((v) => v.announcements[ANNOUNCE_CHANNEL]!);
    expect(rows().map((r) => r.status)).toEqual(['unknown', 'unknown', 'unknown']);

    await bot.bot.scanNow();
    const [stored, ...more] = bot.slack.messages(ANNOUNCE_CHANNEL);
    expect(more).toEqual([]);
    expect(adoptButtons(stored!).map((b) => b.text.text).sort()).toEqual(['Adopt cms', 'Adopt geo', 'Adopt trial']);
    expect(rows().map((r) => [r.status, r.ts])).toEqual([
      ['posted', stored!.ts],
      ['posted', stored!.ts],
      ['posted', stored!.ts],
    ]);
    // One history search settled all three.
    expect(bot.slack.calls('conversations.history')).toHaveLength(1);
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
  });
});

describe('kill -9 while a combined announcement is in flight', () => {
  const procs: BotProcess[] = [];
  let slack: SlackStandIn | undefined;
  let release: () => void = () => undefined;
  afterEach(async () => {
    release();
    for (const p of procs.splice(0)) await p.kill9();
    await slack?.close();
    slack = undefined;
  });

  it('the restarted bot posts no version twice: without the history scopes the cut-off message is reported; with them, settled as posted', { timeout: 180_000 }, async () => {
    world = new World();
    slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS, historyScope: false });
    await slack.start();
    const env = world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' });
    const burst = Array.from({ length: 30 }, (_, i) => `TCD.201609${String(i + 1).padStart(2, '0')}.geo`);
    const standIn = slack;
    const w = world;
    const spawnReady = async (label: string) => {
      const p = spawnBotProcess(env, w.root);
      procs.push(p);
      const port = await p.port(60_000);
      await waitUntil(`${label}: /healthz 200`, async () => {
        if (!p.running()) throw new Error(`${label}: the bot exited:\n${p.output()}`);
        return (await healthOf(port))?.status === 200;
      }, 60_000);
      return { p, port };
    };
    const rows = () => {
      const byVersion = new Map(exportState(w.dataDir).versions.map((v) => [v.version, v.announcements[ANNOUNCE_CHANNEL]!]));
      return burst.map((v) => byVersion.get(v)!);
    };
    /** Each version in at most one message Slack holds, and the state naming that message. */
    const expectNoDuplicate = () => {
      const holding = new Map<string, string[]>();
      for (const m of standIn.messages(ANNOUNCE_CHANNEL)) for (const a of announcementsOf(m.metadata)) holding.set(a.version, [...(holding.get(a.version) ?? []), m.ts]);
      expect([...holding].filter(([, list]) => list.length > 1)).toEqual([]);
      return holding;
    };

    // The first start records the July versions silently.
    const first = await spawnReady('first start');
    await first.p.kill9();
    const base = Date.now() - 3_600_000;
    burst.forEach((version, i) => w.publish('com.acme.geo', version, { mtime: base + i * 1000 }));

    // Slack stores the first combined message and never answers: the bot is killed while it waits.
    const held = new Promise<void>((resolve) => (release = resolve));
    standIn.setHandler('chat.postMessage', async (args, { standIn: s }) => {
      const ts = s.nextTs();
      s.storeMessage({ channel: String(args.channel), ts, text: String(args.text), blocks: args.blocks as unknown[], metadata: args.metadata, threadTs: undefined, ephemeralTo: undefined, edited: false });
      await held;
      return { ok: true, channel: args.channel, ts };
    });
    const second = spawnBotProcess(env, w.root);
    procs.push(second);
    await waitUntil('the first combined message reaching Slack', () => standIn.messages(ANNOUNCE_CHANNEL).length === 1, 60_000);
    await second.kill9();
    const [cutOff] = standIn.messages(ANNOUNCE_CHANNEL);
    const inCutOff = announcementsOf(cutOff!.metadata).map((a) => a.version);
    expect(inCutOff).toEqual(burst.slice(0, 10));
    // All ten were claimed together before the post; the other twenty were never claimed.
    expect(rows().map((r) => r.status)).toEqual([...Array(10).fill('in_flight'), ...Array(20).fill('pending')]);
    standIn.setHandler('chat.postMessage', undefined);
    release();

    // Restart without the history scopes: the ten are unknown and reported, never re-sent; the twenty are posted.
    const third = await spawnReady('restart without history');
    const afterRestart = standIn.messages(ANNOUNCE_CHANNEL);
    expect(afterRestart).toHaveLength(3);
    expect(afterRestart.slice(1).map((m) => (m.blocks![0] as { text: { text: string } }).text.text)).toEqual([
      '20 new releases (part 1 of 2)',
      '20 new releases (part 2 of 2)',
    ]);
    const holding = expectNoDuplicate();
    expect([...holding.keys()].sort()).toEqual([...burst].sort());
    expect(rows().slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill('unknown'));
    for (const [i, r] of rows().slice(10).entries()) expect(r).toMatchObject({ status: 'posted', ts: afterRestart[1 + Math.floor(i / 10)]!.ts, attempts: 1 });
    const problems = (await healthOf(third.port))!.body.problems as { kind: string; detail: string }[];
    for (const version of inCutOff) {
      expect(problems).toContainEqual({ kind: 'announcement-unknown', detail: expect.stringMatching(new RegExp(`^public-data ${version.replace(/\./g, '\\.')} in channel ${ANNOUNCE_CHANNEL}: .*not re-posted`)) });
    }
    await third.p.kill9();

    // With the history scopes granted, the next start finds the cut-off message: all ten posted, with its ts.
    standIn.setHistoryScope(true);
    const fourth = await spawnReady('restart with history');
    expect(standIn.messages(ANNOUNCE_CHANNEL)).toHaveLength(3);
    expectNoDuplicate();
    expect(rows().map((r) => r.status)).toEqual(Array(30).fill('posted'));
    for (const r of rows().slice(0, 10)) expect(r).toMatchObject({ ts: cutOff!.ts, attempts: 1 });
    expect(((await healthOf(fourth.port))!.body.problems as unknown[]).filter((p) => (p as { kind: string }).kind.startsWith('announcement'))).toEqual([]);
  });
});
