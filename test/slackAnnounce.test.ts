// Announcements (SPEC §4, §6): each complete version is posted exactly once per channel,
// across Slack failures and restarts, and only once it is complete.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { DATABASE_FILE } from '../src/infra/state/sqliteState.ts';
import { exportState } from './support/stateDump.ts';
import { ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, TEAM_B_CHANNEL, type BotOptions, World, adoptButtons, modulesFor, removeSeededRemotes, topText } from './support/botHarness.ts';
import { announcementsOf, waitUntil } from './support/botProcess.ts';
import { setMtimes, writeVersion } from '../dev/world/publishFixtures.ts';

const SECOND_CHANNEL = 'C0SECOND';

let world: World | undefined;
let bot: BotUnderTest | undefined;
afterAll(removeSeededRemotes);
afterEach(async () => {
  await bot?.stop();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

async function start(opts: ConstructorParameters<typeof World>[0] = {}, botOptions: BotOptions = {}): Promise<{ world: World; bot: BotUnderTest }> {
  world = new World(opts);
  bot = await BotUnderTest.start(world, undefined, botOptions);
  return { world, bot };
}

/** Successful chat.postMessage calls, as Slack saw them. */
function posts(b: BotUnderTest, channel?: string) {
  return b.slack.calls('chat.postMessage').filter((c) => c.ok && (channel === undefined || c.args.channel === channel));
}

/** The state as it is on disk (what a restart would read). */
function stateOnDisk(w: World) {
  return exportState(w.dataDir);
}

async function announcementOnDisk(w: World, version: string, channel = ANNOUNCE_CHANNEL) {
  return stateOnDisk(w).versions.find((v) => v.version === version)!.announcements[channel]!;
}

describe('announcing a new version', () => {
  it('posts once per channel: summary text, module list, an Adopt button per stage with a confirm dialog, and metadata', async () => {
    const { world, bot } = await start({ publisherChannels: [ANNOUNCE_CHANNEL, SECOND_CHANNEL] });
    expect(posts(bot)).toEqual([]);
    // One version holding two stages (a whole-app publish).
    writeVersion(world.publishDir, 'TCD.20160802', [...modulesFor('com.acme.geo'), ...modulesFor('com.acme.cms'), { fqn: 'com.acme.cms.Extra' }]);

    const summary = await bot.bot.scanNow();
    expect(summary).toMatchObject({ recorded: 1, announced: 2, failedPosts: 0 });

    for (const channel of [ANNOUNCE_CHANNEL, SECOND_CHANNEL]) {
      const [post, ...more] = posts(bot, channel);
      expect(more).toEqual([]);
      expect(post!.args.text).toMatch(/^New release of cms, geo: TCD\.20160802 from public-data — 3 modules, \d+(\.\d)? (B|KB), completed \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      expect(post!.args.metadata).toEqual({
        event_type: 'smv_version_published',
        event_payload: {
          publisher: 'public-data',
          version: 'TCD.20160802',
          stages: ['com.acme.cms', 'com.acme.geo'],
          modules: ['com.acme.cms.CmsSummary', 'com.acme.cms.Extra', 'com.acme.geo.GeoSummary'],
          // Against each stage's previous complete version (SPEC §4).
          schema_change: {
            class: 'compatible',
            stages: [
              { stage: 'com.acme.cms', against: 'TCD.20160701.cms', class: 'compatible', changes: ['module com.acme.cms.Extra added'] },
              { stage: 'com.acme.geo', against: 'TCD.20160701.geo', class: 'none', changes: [] },
            ],
          },
        },
      });
      const blocks = post!.args.blocks as { type: string; text?: { text: string }; fields?: { text: string }[] }[];
      expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'New release: cms, geo TCD.20160802' } });
      const fields = blocks[1]!.fields!.map((f) => f.text);
      expect(fields).toContain('*Version*\n`TCD.20160802`');
      expect(fields).toContain('*Stages*\n`com.acme.cms`, `com.acme.geo`');
      expect(fields.find((f) => f.startsWith('*Modules*'))).toMatch(/^\*Modules\*\n3 \(/);
      expect(fields.find((f) => f.startsWith('*Completed*'))).toMatch(/^\*Completed\*\n<!date\^\d+\^/);
      expect(blocks[2]!.text!.text).toBe('• `com.acme.cms.CmsSummary`\n• `com.acme.cms.Extra`\n• `com.acme.geo.GeoSummary`');

      const stored = bot.slack.messages(channel)[0]!;
      const buttons = adoptButtons(stored);
      // A button per stage, then Adopt all: both stages in one commit.
      expect(buttons.map((b) => b.text.text)).toEqual(['Adopt cms', 'Adopt geo', 'Adopt all']);
      expect(buttons.map((b) => JSON.parse(b.value) as unknown)).toEqual([
        { stage: 'com.acme.cms', version: 'TCD.20160802' },
        { stage: 'com.acme.geo', version: 'TCD.20160802' },
        { stages: ['com.acme.cms', 'com.acme.geo'], version: 'TCD.20160802' },
      ]);
      expect(buttons[2]!.confirm).toMatchObject({
        title: { type: 'plain_text', text: 'Adopt every stage?' },
        text: { type: 'mrkdwn', text: "Pin *cms*, *geo* to `TCD.20160802` in this channel's consumer config, in one commit pushed to its repo (all or nothing)." },
        confirm: { type: 'plain_text', text: 'Adopt all' },
      });
      for (const button of buttons.slice(0, 2)) {
        expect(button.confirm).toMatchObject({
          title: { type: 'plain_text', text: 'Adopt this version?' },
          text: { type: 'mrkdwn', text: expect.stringContaining('`TCD.20160802`') },
          confirm: { type: 'plain_text', text: 'Adopt' },
          deny: { type: 'plain_text', text: 'Cancel' },
        });
      }
      expect(await announcementOnDisk(world, 'TCD.20160802', channel)).toMatchObject({ status: 'posted', ts: stored.ts, attempts: 1 });
    }

    // Scanning again finds nothing new to say.
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 0, announced: 0 });
    expect(posts(bot)).toHaveLength(2);
  });

  it('writes "in flight" to disk before the post is sent', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let posting!: (status: string) => void;
    const statusWhilePosting = new Promise<string>((resolve) => (posting = resolve));
    bot.slack.setHandler('chat.postMessage', async (args, { standIn }) => {
      posting((await announcementOnDisk(world, 'TCD.20160802.geo')).status);
      await held;
      return { ok: true, channel: args.channel, ts: standIn.nextTs() };
    });
    const scan = bot.bot.scanNow();
    // Slack has the request but has not answered: what would a crash now leave on disk?
    expect(await statusWhilePosting).toBe('in_flight');
    release();
    await scan;
    expect((await announcementOnDisk(world, 'TCD.20160802.geo')).status).toBe('posted');
  });

  it('announces versions completing in one scan in one message, oldest first, each with its own line and Adopt button', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160803.geo', { mtime: Date.now() - 60_000 });
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: Date.now() - 120_000 });
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 2, announced: 2 });
    const [post, ...more] = posts(bot);
    expect(more).toEqual([]);
    expect(post!.args.text).toBe('2 new releases: geo TCD.20160802.geo from public-data; geo TCD.20160803.geo from public-data');
    // The SPEC fields name the first version; `versions` lists every one the message announces.
    expect(post!.args.metadata).toEqual({
      event_type: 'smv_version_published',
      event_payload: {
        publisher: 'public-data',
        version: 'TCD.20160802.geo',
        stages: ['com.acme.geo'],
        modules: ['com.acme.geo.GeoSummary'],
        versions: [
          { publisher: 'public-data', version: 'TCD.20160802.geo', schema_change: 'none' },
          { publisher: 'public-data', version: 'TCD.20160803.geo', schema_change: 'none' },
        ],
        schema_change: { class: 'none', stages: [{ stage: 'com.acme.geo', against: 'TCD.20160701.geo', class: 'none', changes: [] }] },
      },
    });
    const stored = bot.slack.messages(ANNOUNCE_CHANNEL)[0]!;
    const blocks = stored.blocks as { type: string; text?: { text: string } }[];
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '2 new releases' } });
    const lines = blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\*geo\* `TCD\.20160802\.geo` from public-data — 1 module, \d+ B, completed <!date\^\d+\^/);
    expect(lines[0]).toContain('\n`com.acme.geo.GeoSummary`');
    expect(lines[1]).toMatch(/^\*geo\* `TCD\.20160803\.geo` from public-data/);
    const buttons = adoptButtons(stored);
    expect(buttons.map((b) => b.text.text)).toEqual(['Adopt geo', 'Adopt geo']);
    expect(buttons.map((b) => JSON.parse(b.value) as unknown)).toEqual([
      { stage: 'com.acme.geo', version: 'TCD.20160802.geo' },
      { stage: 'com.acme.geo', version: 'TCD.20160803.geo' },
    ]);
    for (const version of ['TCD.20160802.geo', 'TCD.20160803.geo']) {
      expect(await announcementOnDisk(world, version)).toMatchObject({ status: 'posted', ts: stored.ts, attempts: 1 });
    }
  });
});

describe('a burst of versions completing together', () => {
  const STAGE_OF = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'];
  /** 30 versions, one stage each, completed a second apart (oldest first). */
  const burst = Array.from({ length: 30 }, (_, i) => {
    const stage = STAGE_OF[i % 3]!;
    return { stage, version: `TCD.201609${String(i + 1).padStart(2, '0')}.${stage.split('.').pop()}` };
  });
  const publishBurst = (w: World) => {
    const base = Date.now() - 3_600_000;
    for (const [i, { stage, version }] of burst.entries()) w.publish(stage, version, { mtime: base + i * 1000 });
  };

  it('30 versions in one scan: three messages of ten (part 1 of 3…), every version once with its own Adopt button, and each button adopts its version', async () => {
    // Posted where client-model listens, so a click adopts for it; paced as in production (1 s, bursts of 3).
    const { world, bot } = await start({ publisherChannels: [TEAM_B_CHANNEL] }, { channelIntervalMs: 1000 });
    publishBurst(world);
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 30, announced: 30, failedPosts: 0 });

    const messages = bot.slack.messages(TEAM_B_CHANNEL);
    expect(messages).toHaveLength(3);
    const headers = messages.map((m) => (m.blocks![0] as { text: { text: string } }).text.text);
    expect(headers).toEqual(['30 new releases (part 1 of 3)', '30 new releases (part 2 of 3)', '30 new releases (part 3 of 3)']);
    for (const m of messages) {
      expect(m.text).toMatch(/^30 new releases \(part \d of 3\): /);
      expect(m.blocks!.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(m.blocks)).toContain('10 of the 30 versions that completed together; the others are in the other 2 messages.');
    }
    // Every version exactly once, oldest first, each with its own button, line and metadata entry.
    const shown = messages.flatMap((m) => adoptButtons(m).map((b) => JSON.parse(b.value) as { stage: string; version: string }));
    expect(shown).toEqual(burst);
    expect(messages.flatMap((m) => announcementsOf(m.metadata).map((a) => a.version))).toEqual(burst.map((b) => b.version));
    for (const m of messages) {
      const lines = (m.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section').map((b) => b.text!.text);
      const versions = announcementsOf(m.metadata).map((a) => a.version);
      expect(lines).toHaveLength(10);
      lines.forEach((line, i) => expect(line).toContain(`\`${versions[i]}\` from public-data — 1 module`));
    }

    // The state: each version posted once, with the ts of the message that holds it.
    const state = stateOnDisk(world);
    for (const [i, { version }] of burst.entries()) {
      const a = state.versions.find((v) => v.version === version)!.announcements[TEAM_B_CHANNEL]!;
      expect(a).toMatchObject({ status: 'posted', attempts: 1, ts: messages[Math.floor(i / 10)]!.ts });
    }
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 0, announced: 0 });
    expect(bot.slack.messages(TEAM_B_CHANNEL)).toHaveLength(3);

    // Each button adopts its own version: clicked one by one, every answer and every commit names it.
    for (const m of messages) {
      for (const [index, button] of adoptButtons(m).entries()) {
        const { stage, version } = JSON.parse(button.value) as { stage: string; version: string };
        const base = stage.split('.').pop()!;
        const { ack, request } = await bot.clickAdopt(m, index);
        expect(ack.status).toBe(200);
        const answer = await bot.slack.waitForResponse(request.responseUrl);
        expect(topText(answer.body)).toMatch(new RegExp(`^<@${ADOPTER}> adopted ${base} ${version.replace(/\./g, '\\.')} for client-model \\(was \\S+\\) — commit [0-9a-f]{7}$`));
        expect(world.remoteLog()[0]).toContain(`Adopt ${base} ${version} for client-model`);
        expect(world.remoteFile()).toContain(`smv.stages.${base}.version = ${version}`);
      }
    }
  });

  it('11 versions are split evenly (6 and 5), never leaving one alone', async () => {
    const { world, bot } = await start();
    for (const { stage, version } of burst.slice(0, 11)) world.publish(stage, version);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 11 });
    const messages = bot.slack.messages(ANNOUNCE_CHANNEL);
    expect(messages.map((m) => adoptButtons(m).length)).toEqual([6, 5]);
    expect(messages.map((m) => m.text!.split(':')[0])).toEqual(['11 new releases (part 1 of 2)', '11 new releases (part 2 of 2)']);
    expect(JSON.stringify(messages[1]!.blocks)).toContain('5 of the 11 versions that completed together; the others are in the other message.');
  });

  it('a combined message Slack refused leaves all its versions pending; the next scan posts them once, combined again', async () => {
    const { world, bot } = await start();
    for (const { stage, version } of burst.slice(0, 3)) world.publish(stage, version);
    bot.slack.failNext('chat.postMessage', 1, { ok: false, error: 'internal_error' });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 3 });
    for (const { version } of burst.slice(0, 3)) expect(await announcementOnDisk(world, version)).toMatchObject({ status: 'pending', lastError: 'internal_error', attempts: 1 });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 3, failedPosts: 0 });
    const [message, ...more] = bot.slack.messages(ANNOUNCE_CHANNEL);
    expect(more).toEqual([]);
    expect(adoptButtons(message!).map((b) => (JSON.parse(b.value) as { version: string }).version)).toEqual(burst.slice(0, 3).map((b) => b.version));
    for (const { version } of burst.slice(0, 3)) expect(await announcementOnDisk(world, version)).toMatchObject({ status: 'posted', ts: message!.ts, attempts: 2 });
  });
});

describe('exactly once across Slack failures', () => {
  it('honours a 429 (Retry-After 1) and then posts exactly once', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1, failedPosts: 0 });

    const attempts = bot.slack.calls('chat.postMessage');
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toHaveLength(1);
    expect(await announcementOnDisk(world, 'TCD.20160802.geo')).toMatchObject({ status: 'posted', attempts: 1 });
  });

  it('after 5xx answers exhaust the retries, leaves the version pending; the next scan posts it exactly once', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    // The harness allows 2 retries: three 500s in a row exhaust them.
    bot.slack.failNext('chat.postMessage', 3, { status: 500 });

    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 1, announced: 0, failedPosts: 1 });
    expect(bot.slack.calls('chat.postMessage').map((a) => a.status)).toEqual([500, 500, 500]);
    expect(bot.slack.messages()).toEqual([]);
    const failed = await announcementOnDisk(world, 'TCD.20160802.geo');
    expect(failed.status).toBe('pending');
    expect(failed.lastError).toContain('500');

    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 0, announced: 1, failedPosts: 0 });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0 });
    expect(posts(bot)).toHaveLength(1);
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toHaveLength(1);
    expect(await announcementOnDisk(world, 'TCD.20160802.geo')).toMatchObject({ status: 'posted', attempts: 2 });
  });

  it('a 5xx followed by success within the retries posts once', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.failNext('chat.postMessage', 1, { status: 500 });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1, failedPosts: 0 });
    expect(bot.slack.calls('chat.postMessage').map((a) => a.status)).toEqual([500, 200]);
    expect(bot.slack.messages(ANNOUNCE_CHANNEL)).toHaveLength(1);
  });

  it('channel_not_found marks the post failed with the reason, shows it in /healthz, and no scan retries it', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.failNext('chat.postMessage', 1, { ok: false, error: 'channel_not_found' });

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 1 });
    // A platform error is an answer, not a transport failure: no blind retry.
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
    expect(await announcementOnDisk(world, 'TCD.20160802.geo')).toMatchObject({ status: 'failed', lastError: expect.stringContaining('channel_not_found') });
    const health = await bot.healthz();
    expect(health.body.problems).toContainEqual({
      kind: 'announcement-failed',
      detail: expect.stringMatching(/public-data TCD\.20160802\.geo in channel C0ANNOUNCE: .*channel_not_found/),
    });

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 0 });
    expect(bot.slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('a version deleted while its post is pending is not announced (unless it comes back)', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.failNext('chat.postMessage', 1, { ok: false, error: 'internal_error' });
    expect(await bot.bot.scanNow()).toMatchObject({ failedPosts: 1 });

    const versionDir = path.join(world.publishDir, 'TCD.20160802.geo');
    const aside = path.join(world.root, 'aside');
    fs.renameSync(versionDir, aside);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 0 });
    expect(posts(bot)).toHaveLength(0);

    fs.renameSync(aside, versionDir);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1 });
    expect(posts(bot)).toHaveLength(1);
  });

  it('when one of two channels fails for a passing reason, only that one is posted again', async () => {
    const { world, bot } = await start({ publisherChannels: [ANNOUNCE_CHANNEL, SECOND_CHANNEL] });
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.setHandler('chat.postMessage', (args, { standIn }) => {
      if (args.channel === SECOND_CHANNEL) return { ok: false, error: 'internal_error' };
      return { ok: true, channel: args.channel, ts: standIn.nextTs() };
    });
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1, failedPosts: 1 });
    bot.slack.setHandler('chat.postMessage', undefined);

    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1, failedPosts: 0 });
    expect(posts(bot, ANNOUNCE_CHANNEL)).toHaveLength(1);
    expect(posts(bot, SECOND_CHANNEL)).toHaveLength(1);
  });
});

describe('exactly once across restarts', () => {
  it('does not post again after a restart', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    expect(posts(bot)).toHaveLength(1);

    await bot.restart();
    await bot.bot.scanNow();
    expect(posts(bot)).toHaveLength(1);
  });

  it('a post still pending at shutdown is posted by the next run', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    bot.slack.failNext('chat.postMessage', 3, { status: 500 });
    await bot.bot.scanNow();
    expect(posts(bot)).toEqual([]);

    await bot.restart(); // the start-up scan posts it
    expect(posts(bot)).toHaveLength(1);
    await bot.bot.scanNow();
    expect(posts(bot)).toHaveLength(1);
  });

  it('a post that was in flight when the bot died is marked unknown, reported, and never re-posted', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.stop();
    // Simulate a crash between "in flight" and "posted": Slack may or may not have the message.
    await bot.startBot();
    await bot.bot.scanNow();
    await bot.bot.stop();
    // What a kill -9 between "in flight" and "posted" leaves in the database.
    const db = new Database(path.join(world.dataDir, DATABASE_FILE));
    db.prepare(`UPDATE announcements SET status = 'in_flight', ts = NULL WHERE version = ? AND channel = ?`).run('TCD.20160802.geo', ANNOUNCE_CHANNEL);
    db.close();
    bot.slack.clearRecords();

    await bot.startBot();
    await bot.bot.scanNow();
    expect(posts(bot)).toEqual([]);
    expect(await announcementOnDisk(world, 'TCD.20160802.geo')).toMatchObject({
      status: 'unknown',
      lastError: expect.stringContaining('not re-posted'),
    });
    expect((await bot.healthz()).body.problems).toContainEqual({ kind: 'announcement-unknown', detail: expect.stringContaining('TCD.20160802.geo') });
  });

  it('on the very first start, versions already complete are recorded silently', async () => {
    const { world, bot } = await start({ initialVersions: ['TCD.20160601', 'TCD.20160701'] });
    expect(posts(bot)).toEqual([]);
    const versions = stateOnDisk(world).versions;
    expect(versions).toHaveLength(6);
    for (const v of versions) expect(v.announcements[ANNOUNCE_CHANNEL]!.status).toBe('silent');
    // They are known (adoptable, listed), just not announced.
    const { reply } = await bot.command('releases geo');
    expect(reply).toContain('TCD.20160601.geo');
    expect(reply).toContain('TCD.20160701.geo');
  });

  it('versions completed while the bot was stopped are announced at the next start', async () => {
    const { world, bot } = await start();
    await bot.bot.stop();
    world.publish('com.acme.trial', 'TCD.20160802.trial');
    await bot.startBot();
    expect(posts(bot).map((p) => (p.args.metadata as { event_payload: { version: string } }).event_payload.version)).toEqual(['TCD.20160802.trial']);
  });
});

describe('only complete versions', () => {
  it('a version still being written (no _SUCCESS) is announced only once complete', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo', { incomplete: 'no-success' });
    const first = await bot.bot.scanNow();
    expect(first).toMatchObject({ recorded: 0, announced: 0 });
    expect(first.pending.map((p) => p.version.version)).toEqual(['TCD.20160802.geo']);
    expect(posts(bot)).toEqual([]);
    expect((await bot.command('releases geo')).reply).not.toContain('TCD.20160802.geo');

    const csvDir = path.join(world.publishDir, 'TCD.20160802.geo', 'com.acme.geo.GeoSummary.csv');
    fs.writeFileSync(path.join(csvDir, '_SUCCESS'), '');
    setMtimes(path.join(world.publishDir, 'TCD.20160802.geo'), Date.now() - 3_600_000);
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 1, announced: 1 });
    await bot.bot.scanNow();
    expect(posts(bot)).toHaveLength(1);
  });

  it('a version with a _temporary dir is not announced', async () => {
    const { world, bot } = await start();
    world.publish('com.acme.geo', 'TCD.20160802.geo', { incomplete: 'temporary' });
    expect(await bot.bot.scanNow()).toMatchObject({ recorded: 0, announced: 0 });
    expect(posts(bot)).toEqual([]);
  });

  it('a version still settling (changed within settleSeconds) waits, then is announced once', async () => {
    const { world, bot } = await start({ settleSeconds: 600 });
    world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: 'now' });
    const settling = await bot.bot.scanNow();
    expect(settling.pending[0]?.version.incompleteReasons.join(' ')).toContain('settleSeconds 600');
    expect(posts(bot)).toEqual([]);

    setMtimes(path.join(world.publishDir, 'TCD.20160802.geo'), Date.now() - 3_600_000);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1 });
    expect(posts(bot)).toHaveLength(1);
  });
});

describe('noticing versions without waiting for the schedule', () => {
  it('a version whose _SUCCESS lands later is announced when it lands (file-system watch)', async () => {
    const { world, bot } = await start({}, { watch: true });
    world.publish('com.acme.geo', 'TCD.20160802.geo', { incomplete: 'no-success' });
    // The new version dir wakes a scan, which finds it still being written and watches it closely.
    await waitUntil('the scan the new version dir wakes', async () => Number((await bot.healthz()).body.scans) >= 2, 30_000);
    expect(posts(bot)).toEqual([]);

    const csvDir = path.join(world.publishDir, 'TCD.20160802.geo', 'com.acme.geo.GeoSummary.csv');
    fs.writeFileSync(path.join(csvDir, '_SUCCESS'), '');
    const post = await bot.slack.waitForCall('chat.postMessage');
    expect((post.args.metadata as { event_payload: { version: string } }).event_payload.version).toBe('TCD.20160802.geo');
  });

  it('a publish dir that cannot be watched is logged once and listed in /healthz until it can; then changes are noticed again', async () => {
    world = new World();
    const { publishDir } = world;
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    bot = await BotUnderTest.start(world, undefined, {
      watch: true,
      logger,
      // After the config checked it: the dir becomes a symlink to itself, which can be neither watched nor read.
      beforeStart: () => {
        fs.renameSync(publishDir, `${publishDir}.away`);
        fs.symlinkSync(publishDir, publishDir);
      },
    });
    const watchLog = () =>
      lines
        .map((l) => JSON.parse(l) as { level: number; kind?: string; msg: string })
        .filter((l) => l.kind === 'publish-dir-watch')
        .map((l) => `${l.level} ${l.msg}`);
    const problem = { kind: 'publish-dir-watch', detail: `public-data: cannot watch ${publishDir}: ELOOP: too many symbolic links encountered, watch '${publishDir}'; changes are found on scan.schedule only` };
    expect((await bot.healthz()).body.problems).toContainEqual(problem);
    // Each scan tries again; the problem is logged when it appears, not on every try.
    await bot.bot.scanNow();
    await bot.bot.scanNow();
    expect(watchLog()).toEqual([`40 ${problem.detail}`]);

    fs.unlinkSync(publishDir);
    fs.renameSync(`${publishDir}.away`, publishDir);
    await bot.bot.scanNow();
    expect((await bot.healthz()).body.problems).toEqual([]);
    expect(watchLog()).toEqual([`40 ${problem.detail}`, `30 resolved: ${problem.detail}`]);
    // Watched again: a new version is announced without anyone asking for a scan.
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    const post = await bot.slack.waitForCall('chat.postMessage', (c) => c.ok && announcementsOf(c.args.metadata).some((a) => a.version === 'TCD.20160802.geo'));
    expect(post.args.channel).toBe(ANNOUNCE_CHANNEL);
  });

  it('a version that only has to settle is announced when settleSeconds are over', async () => {
    const { world, bot } = await start({ settleSeconds: 1 }, { watch: true });
    world.publish('com.acme.trial', 'TCD.20160802.trial', { mtime: 'now' });
    const post = await bot.slack.waitForCall('chat.postMessage');
    expect((post.args.metadata as { event_payload: { version: string } }).event_payload.version).toBe('TCD.20160802.trial');
    expect(posts(bot)).toHaveLength(1);
  });
});
