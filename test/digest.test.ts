// Issue 17 (SPEC §3 `digest:`, §4): the digest of stale pins, run by the real bot against the
// Slack stand-in with a fixed clock: what each consumer's channels read, silence when all is
// current, the Adopt latest button, the leader alone posting, and a bad cron refused at start-up.
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/infra/config/index.ts';
import { SlackStandIn, type StoredMessage } from '../dev/slack/slackStandIn.ts';
import {
  ADOPTER,
  BOT_TOKEN,
  BotUnderTest,
  CONSUMER,
  STAGES,
  TEAM_B_CHANNEL,
  USERS,
  USER_CONF,
  World,
  removeSeededRemotes,
  replyText,
} from './support/botHarness.ts';
import { createSchema, requirePostgres } from '../dev/world/postgres.ts';
import { copyVersion } from '../dev/world/publishFixtures.ts';
import { spawnBot } from './support/spawnBot.ts';
import { readableBlocks, type Block } from './support/blockKit.ts';

afterAll(removeSeededRemotes);

const SECOND_CHANNEL = 'C0TEAMB2';
const T0 = new Date('2024-01-02T10:00:00Z');
const T1 = new Date('2024-02-01T10:00:00Z');
const T2 = new Date('2024-03-01T10:00:00Z');
/** 3 days after T2 (and 32 after T1): past client-model's 48 h soak for every version. */
const NOW = new Date('2024-03-04T12:00:00Z');
/** 26 h after T2: TCD.20160903.geo is still soaking. */
const DURING_SOAK = new Date('2024-03-02T12:00:00Z');

/** What the channel reads of one message: header, context and section texts, one per line. */
function readable(message: StoredMessage): string {
  return readableBlocks((message.blocks ?? []) as Block[]);
}

/** The section of the message about `stage` (its first line names it in bold). */
function stageBlock(message: StoredMessage, stage: string): Block {
  const block = ((message.blocks ?? []) as Block[]).find((b) => b.type === 'section' && b.text?.text.startsWith(`*${stage}*`));
  if (!block) throw new Error(`No section about ${stage} in:\n${readable(message)}`);
  return block;
}

function digestsIn(slack: SlackStandIn, channel: string): StoredMessage[] {
  return slack.messages(channel).filter((m) => m.text?.startsWith('Pin digest'));
}

describe('digest of stale pins', () => {
  it('with a fixed clock: behind (versions, days, soak counted), no longer published, not synced; one message per channel; the button adopts', async () => {
    const world = new World({
      initialVersions: [],
      consumerPublishDir: true,
      consumerChannels: [TEAM_B_CHANNEL, SECOND_CHANNEL],
      minAgeHours: 48,
      userConf: `${USER_CONF}smv.stages.trial.version = TCD.20160701.trial\n`,
    });
    for (const stage of STAGES) world.publish(stage, `TCD.20160701.${stage.split('.').pop()}`, { mtime: T0.getTime() });
    // Team B synced geo and cms, not trial.
    copyVersion(world.publishDir, world.consumerPublishDir, 'TCD.20160701.geo');
    copyVersion(world.publishDir, world.consumerPublishDir, 'TCD.20160701.cms');
    const bot = await BotUnderTest.start(world);
    try {
      world.publish('com.acme.geo', 'TCD.20160802.geo', { mtime: T1.getTime() });
      world.publish('com.acme.geo', 'TCD.20160903.geo', { mtime: T2.getTime() });
      world.publish('com.acme.cms', 'TCD.20160802.cms', { mtime: T1.getTime() });
      fs.rmSync(path.join(world.publishDir, 'TCD.20160701.cms'), { recursive: true });
      await bot.bot.scanNow();

      // While TCD.20160903.geo soaks, geo is one adoptable version behind.
      const soaking = await bot.bot.digestNow({ now: DURING_SOAK });
      expect(soaking.posted).toEqual([
        { consumer: CONSUMER, channel: TEAM_B_CHANNEL, lines: 3 },
        { consumer: CONSUMER, channel: SECOND_CHANNEL, lines: 3 },
      ]);
      const [early] = digestsIn(bot.slack, TEAM_B_CHANNEL);
      expect(stageBlock(early!, 'geo').text!.text).toBe(
        '*geo* pinned to `TCD.20160701.geo`\n• 1 version behind `TCD.20160802.geo` (completed 30 days ago); behind since `TCD.20160802.geo` completed 30 days ago',
      );
      expect(JSON.parse(stageBlock(early!, 'geo').accessory!.value)).toEqual({ stage: 'com.acme.geo', version: 'TCD.20160802.geo' });

      const summary = await bot.bot.digestNow({ now: NOW });
      expect(summary.failed).toEqual([]);
      expect(summary.posted.map((p) => p.channel)).toEqual([TEAM_B_CHANNEL, SECOND_CHANNEL]);
      const inB = digestsIn(bot.slack, TEAM_B_CHANNEL);
      const inB2 = digestsIn(bot.slack, SECOND_CHANNEL);
      expect(inB).toHaveLength(2);
      expect(inB2).toHaveLength(2);
      const digest = inB[1]!;
      expect(readable(inB2[1]!)).toBe(readable(digest));
      const text = readable(digest);
      expect(text).toContain('Pin digest: client-model');
      expect(text).toContain('3 stages of client-model (branch `main`) need attention.');

      const geo = stageBlock(digest, 'geo');
      expect(geo.text!.text).toBe(
        '*geo* pinned to `TCD.20160701.geo`\n• 2 versions behind `TCD.20160903.geo` (completed 3 days ago); behind since `TCD.20160802.geo` completed 32 days ago',
      );
      expect(geo.accessory!.text.text).toBe('Adopt latest');
      expect(JSON.parse(geo.accessory!.value)).toEqual({ stage: 'com.acme.geo', version: 'TCD.20160903.geo' });
      expect(geo.accessory!.confirm!.text.text).toContain('`TCD.20160903.geo`');

      const cms = stageBlock(digest, 'cms');
      expect(cms.text!.text).toBe(
        "*cms* pinned to `TCD.20160701.cms`\n• TCD.20160701.cms is no longer in public-data's publish dir: SMV runs against it will fail. Adopt a current version.",
      );
      expect(JSON.parse(cms.accessory!.value)).toEqual({ stage: 'com.acme.cms', version: 'TCD.20160802.cms' });

      const trial = stageBlock(digest, 'trial');
      expect(trial.text!.text).toContain("*trial* pinned to `TCD.20160701.trial`\n• not synced: Version TCD.20160701.trial is not in the consumer's publish dir");
      // Pinned to the newest already: syncing, not adopting, is the fix.
      expect(trial.accessory).toBeUndefined();
      expect(digest.text).toBe(
        'Pin digest for client-model: cms pinned to a version no longer published, geo 2 versions behind for 32 days, trial not synced',
      );

      // The button is the announcement's: the announcement's handler adopts for the channel's consumer.
      copyVersion(world.publishDir, world.consumerPublishDir, 'TCD.20160903.geo');
      const click = bot.slack.blockAction({ actionId: geo.accessory!.action_id, value: geo.accessory!.value, userId: ADOPTER, channelId: TEAM_B_CHANNEL, messageTs: digest.ts });
      expect((await bot.send(click)).status).toBe(200);
      const answer = await bot.slack.waitForResponse(click.responseUrl, 30_000);
      expect(replyText(answer.body)).toMatch(new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160903\\.geo for client-model \\(was TCD\\.20160701\\.geo\\) — commit [0-9a-f]{7}`));
      expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160903.geo');

      // geo is current now: the next digest leaves it out.
      await bot.bot.digestNow({ now: NOW });
      const next = digestsIn(bot.slack, TEAM_B_CHANNEL)[2]!;
      expect(readable(next)).toContain('2 stages of client-model');
      expect(readable(next)).not.toContain('*geo*');
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('is silent for a consumer whose pins are all current', async () => {
    const world = new World();
    const bot = await BotUnderTest.start(world);
    try {
      const summary = await bot.bot.digestNow({ now: NOW });
      expect(summary).toEqual({ at: NOW.toISOString(), posted: [], silent: [CONSUMER], failed: [] });
      expect(bot.slack.messages(TEAM_B_CHANNEL)).toEqual([]);
      expect(bot.slack.calls('chat.postMessage')).toEqual([]);
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('lists a pin on a deprecated version with the reason, and offers the newest good version, never a deprecated one', async () => {
    const world = new World({ initialVersions: ['TCD.20160701'], publisherOwners: ['U0OWNER'] });
    const bot = await BotUnderTest.start(world);
    try {
      world.publish('com.acme.geo', 'TCD.20160702.geo');
      world.publish('com.acme.geo', 'TCD.20160801.geo');
      await bot.bot.scanNow();
      // client-model pins TCD.20160701.geo; it and the newest are taken back: TCD.20160702.geo is what to move to.
      expect((await bot.command('deprecate geo TCD.20160701.geo wrong county codes', { user: 'U0OWNER' })).reply).toContain('deprecated geo');
      expect((await bot.command('deprecate geo TCD.20160801.geo', { user: 'U0OWNER' })).reply).toContain('deprecated geo');
      await bot.bot.digestNow({ now: NOW });
      const [digest] = digestsIn(bot.slack, TEAM_B_CHANNEL);
      const geo = stageBlock(digest!, 'geo');
      expect(geo.text!.text).toContain(':warning: deprecated by');
      expect(geo.text!.text).toContain('wrong county codes');
      expect(JSON.parse(geo.accessory!.value)).toEqual({ stage: 'com.acme.geo', version: 'TCD.20160702.geo' });
      expect(digest!.text).toContain('geo pinned to a deprecated version');
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('says so when the pins cannot be read (silence would read as "all current"), and /healthz lists refused posts', async () => {
    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160802'], extraConsumers: [{ name: 'gone-model', channels: ['C0GONE'] }] });
    const bot = await BotUnderTest.start(world);
    try {
      fs.rmSync(world.remoteOf('gone-model'), { recursive: true });
      // Consumers are posted to in config order: client-model's channel is the first post.
      bot.slack.failNext('chat.postMessage', 1, { ok: false, error: 'not_in_channel' });
      const summary = await bot.bot.digestNow({ now: NOW });
      expect(summary.failed).toEqual([{ consumer: CONSUMER, channel: TEAM_B_CHANNEL, error: 'not_in_channel' }]);
      const [gone] = digestsIn(bot.slack, 'C0GONE');
      expect(gone!.text).toMatch(/^Pin digest for gone-model: its pins could not be read from branch `main` \(git said: .+\), so nothing is known about how current they are\./);
      const health = await bot.healthz();
      expect(health.body.problems).toContainEqual({
        kind: 'digest-post-failed',
        detail: `the digest for ${CONSUMER} could not be posted in channel ${TEAM_B_CHANNEL}: not_in_channel`,
      });
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('runs on digest.schedule by itself', async () => {
    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160802'] });
    const config = parse(fs.readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(world.configPath, stringify({ ...config, digest: { schedule: '* * * * * *' } }));
    const bot = await BotUnderTest.start(world, undefined, { watch: true });
    try {
      const posted = await bot.slack.waitForCall('chat.postMessage', (c) => c.ok && c.args.channel === TEAM_B_CHANNEL, 30_000);
      expect(String(posted.args.text)).toBe('Pin digest for client-model: cms 1 version behind for less than a day, geo 1 version behind for less than a day');
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('with several replicas only the leader posts it', async () => {
    const schema = await createSchema(await requirePostgres());
    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160802'] });
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    const replica = (n: number) => new BotUnderTest(world, slack, { env: { SMVBOT_DATABASE_URL: schema.url, SMVBOT_DATA_DIR: path.join(world.root, `data-${n}`) } });
    const replicas = [replica(1), replica(2)];
    try {
      for (const r of replicas) await r.startBot();
      const leader = replicas.find((r) => r.bot.role() === 'leader')!;
      const follower = replicas.find((r) => r.bot.role() === 'follower')!;
      expect(leader && follower).toBeTruthy();
      const skipped = await follower.bot.digestNow({ now: NOW });
      expect(skipped).toEqual({ at: NOW.toISOString(), skipped: 'follower', posted: [], silent: [], failed: [] });
      expect(digestsIn(slack, TEAM_B_CHANNEL)).toEqual([]);
      const ran = await leader.bot.digestNow({ now: NOW });
      expect(ran.posted).toEqual([{ consumer: CONSUMER, channel: TEAM_B_CHANNEL, lines: 2 }]);
      expect(digestsIn(slack, TEAM_B_CHANNEL)).toHaveLength(1);
    } finally {
      for (const r of replicas) await r.bot?.stop();
      await slack.close();
      world.cleanup();
      await schema.drop();
    }
  });
});

describe('digest configuration', () => {
  it('a bad digest cron stops `npm start` with exit 2, listed with the other problems', async () => {
    const world = new World();
    try {
      const config = parse(fs.readFileSync(world.configPath, 'utf8')) as { consumers: Record<string, unknown>[] };
      config.consumers[0]!.brnch = 'main';
      fs.writeFileSync(world.configPath, stringify({ ...config, digest: { schedule: 'every monday' } }));
      const bot = spawnBot(world.env(), world.root);
      const { code } = await bot.exited;
      expect(code).toBe(2);
      const stderr = bot.stderr();
      expect(stderr).toContain('smvbot cannot start: 2 configuration problems to fix.');
      expect(stderr).toMatch(/ {2}- .*smvbot\.yml: digest\.schedule: "every monday" is not a valid cron expression/);
      expect(stderr).toMatch(/ {2}- .*smvbot\.yml: consumers\[0\]\.brnch: unknown key \(did you mean branch\?\)/);
    } finally {
      world.cleanup();
    }
  });

  it('`digest:` is optional; without a schedule, or with a misspelt key, it is refused', () => {
    const world = new World();
    try {
      const base = parse(fs.readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
      const load = (digest: unknown) => {
        fs.writeFileSync(world.configPath, stringify(digest === undefined ? base : { ...base, digest }));
        return loadConfig({ cwd: world.root, env: world.env() });
      };
      const absent = load(undefined);
      expect(absent.ok && absent.config.digest).toBe(null);
      const weekly = load({ schedule: '0 9 * * 1' });
      expect(weekly.ok && weekly.config.digest).toEqual({ schedule: '0 9 * * 1' });
      const missing = load({});
      expect(missing.ok ? [] : missing.problems).toEqual(['smvbot.yml: digest.schedule: is required but missing']);
      const misspelt = load({ schedul: '0 9 * * 1' });
      expect(misspelt.ok ? [] : misspelt.problems).toContain('smvbot.yml: digest.schedul: unknown key (did you mean schedule?); allowed keys here: schedule');
    } finally {
      world.cleanup();
    }
  });
});
