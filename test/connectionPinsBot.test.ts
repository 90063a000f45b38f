// Connection pins end to end (SPEC §2 "Connection pins", §5.3): a Python SMV (2.4r1) consumer next to a
// stage-pin one, driven through the real bot with signed `/smv` requests; effects read from the
// consumers' bare remotes.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyVersion } from '../dev/world/publishFixtures.ts';
import {
  ADOPTER,
  ANNOUNCE_CHANNEL,
  BotUnderTest,
  CONSUMER,
  MODERN,
  MODERN_SMV_PUBLISH_DIR as DIR,
  TEAM_B_CHANNEL,
  TEAM_C_CHANNEL,
  World,
  adoptButtons,
  git,
  topText,
  visibilityOf,
  removeSeededRemotes,
} from './support/botHarness.ts';
import type { Block, Button } from './support/blockKit.ts';

afterAll(removeSeededRemotes);

const CONNECTIONS_PATH = 'conf/connections.props';
const USER_CONF_PATH = 'conf/smv-user-conf.props';
const MARKER = '# smv.conn.pdd_geo.type added by smvbot with the pin below; /smv unpin removes it';

/** Team C's connections file as SMV 2.4's template would have it, with CRLF line ends. */
const CONNECTIONS_PROPS = [
  '# Connections of the modern-model app (SMV 2.4)',
  'smv.conn.myinput.type = hdfs',
  'smv.conn.myinput.path = hdfs:///data/team-c/input',
  '',
  '# pdd_cms is read from a manual copy for now',
  'smv.conn.pdd_cms.type = hdfs',
  'smv.conn.pdd_cms.path = /mnt/manual/cms',
  '',
].join('\r\n');

const MODERN_FILES = {
  'conf/smv-app-conf.props': 'smv.appName = Modern Model\nsmv.stages = com.teamc.model\n',
  [CONNECTIONS_PATH]: CONNECTIONS_PROPS,
  '.gitignore': 'conf/smv-user-conf.props\n',
};

let world: World | undefined;
let bot: BotUnderTest | undefined;
afterEach(async () => {
  await bot?.stop();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

async function start(
  files: Record<string, string> = MODERN_FILES,
  opts: { connectionsPath?: string; publishDir?: boolean } = {},
  worldOpts: ConstructorParameters<typeof World>[0] = {},
) {
  world = new World({ ...worldOpts, connectionConsumer: { files, ...opts } });
  bot = await BotUnderTest.start(world);
  world.publishAll('TCD.20160802');
  await bot.bot.scanNow();
  return { w: world, b: bot };
}

const modernFile = (w: World, file = CONNECTIONS_PATH) => w.remoteFile(file, 'main', MODERN);
const teamC = { channel: TEAM_C_CHANNEL };

describe('adopt for a connection-style consumer', () => {
  it('writes the connection path (and its type) into conf/connections.props, byte for byte, and tells the channel', async () => {
    const { w, b } = await start();
    const stageConsumerBefore = w.remoteLog();
    const answer = await b.command('adopt geo TCD.20160802.geo', teamC);
    const sha = w.remoteLog('main', MODERN)[0]!.slice(0, 40);

    expect(answer.visibility).toBe('in_channel');
    expect(answer.reply).toContain(`<@${ADOPTER}> adopted geo TCD.20160802.geo for ${MODERN} (was none) — commit ${sha.slice(0, 7)}`);
    expect(modernFile(w)).toBe(
      CONNECTIONS_PROPS + [MARKER, 'smv.conn.pdd_geo.type = hdfs', `smv.conn.pdd_geo.path = ${DIR}/TCD.20160802.geo`, ''].join('\r\n'),
    );
    expect(git(['--git-dir', w.remoteOf(MODERN), 'show', '--name-only', '--format=', 'main']).trim()).toBe(CONNECTIONS_PATH);
    expect(w.commitMessage('main', MODERN)).toBe(`Adopt geo TCD.20160802.geo for ${MODERN}\n\nPrevious: none\nAdopted-by: Bea Adopter (${ADOPTER})\n\n`);
    // The stage-pin consumer next to it is untouched.
    expect(w.remoteLog()).toEqual(stageConsumerBefore);

    // Adopting again: the path is effective, so nothing is committed.
    const again = await b.command('adopt geo TCD.20160802.geo', teamC);
    expect(again.visibility).toBe('ephemeral');
    expect(again.reply).toContain(`geo is already pinned to \`TCD.20160802.geo\` for ${MODERN} (smv.conn.pdd_geo.path in ${CONNECTIONS_PATH})`);
    expect(w.remoteLog('main', MODERN)[0]!.startsWith(sha)).toBe(true);
  });

  it('replaces a path that pointed elsewhere, keeping the type a person wrote, and records the old path', async () => {
    const { w, b } = await start();
    const answer = await b.command('adopt cms TCD.20160802.cms', teamC);
    expect(answer.reply).toContain(`adopted cms TCD.20160802.cms for ${MODERN} (was /mnt/manual/cms)`);
    expect(modernFile(w)).toBe(CONNECTIONS_PROPS.replace('smv.conn.pdd_cms.path = /mnt/manual/cms', `smv.conn.pdd_cms.path = ${DIR}/TCD.20160802.cms`));
    const history = await b.command('history', teamC);
    expect(history.reply).toContain(`adopted cms \`TCD.20160802.cms\` for ${MODERN} (was /mnt/manual/cms)`);
  });

  it('refuses, naming the file, when a tracked conf/smv-user-conf.props sets the same key (SMV reads it later)', async () => {
    const files = {
      ...MODERN_FILES,
      '.gitignore': '',
      [USER_CONF_PATH]: `smv.dataDir = /srv/team-c/data\nsmv.conn.pdd_geo.path = ${DIR}/TCD.20160701.geo\nsmv.conn.pdd_geo.type = hdfs\n`,
    };
    const { w, b } = await start(files);
    const before = w.remoteLog('main', MODERN);
    const answer = await b.command('adopt geo TCD.20160802.geo', teamC);
    expect(answer.visibility).toBe('ephemeral');
    expect(answer.reply).toContain(`\`smv.conn.pdd_geo.path\` is also set in \`${USER_CONF_PATH}\` (line 2), which SMV reads after \`${CONNECTIONS_PATH}\``);
    expect(answer.reply).toContain('Nothing was changed');
    expect(w.remoteLog('main', MODERN)).toEqual(before);

    // /smv pins shows that user-conf pin as the effective one.
    const pins = await b.command('pins', teamC);
    expect(pins.reply).toContain(`geo* → \`TCD.20160701.geo\` (smv.conn.pdd_geo.path in ${USER_CONF_PATH}) — 1 version behind latest \`TCD.20160802.geo\``);
  });

  it('writes where connectionsPath says (here the tracked user conf)', async () => {
    const files = { 'conf/smv-app-conf.props': 'smv.appName = M\n', [USER_CONF_PATH]: 'smv.dataDir = /d\n' };
    const { w, b } = await start(files, { connectionsPath: USER_CONF_PATH });
    await b.command('adopt trial TCD.20160802.trial', teamC);
    expect(modernFile(w, USER_CONF_PATH)).toBe(
      `smv.dataDir = /d\n${MARKER.replace('pdd_geo', 'pdd_trial')}\nsmv.conn.pdd_trial.type = hdfs\nsmv.conn.pdd_trial.path = ${DIR}/TCD.20160802.trial\n`,
    );
  });
});

describe('the same adopt path from everywhere', () => {
  it('the Adopt button in the channel bound to the connection consumer pins the connection path', async () => {
    const { w, b } = await start(MODERN_FILES, {}, { publisherChannels: [ANNOUNCE_CHANNEL, TEAM_C_CHANNEL] });
    const announcement = b.slack.messages(TEAM_C_CHANNEL).find((m) => (m.text ?? '').includes('TCD.20160802.geo'))!;
    const index = adoptButtons(announcement).findIndex((button) => button.text.text === 'Adopt geo');
    const { request } = await b.clickAdopt(announcement, index);
    const answer = await b.slack.waitForResponse(request.responseUrl);
    const sha = w.remoteLog('main', MODERN)[0]!.slice(0, 7);
    expect(visibilityOf(answer.body)).toBe('in_channel');
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted geo TCD.20160802.geo for ${MODERN} (was none) — commit ${sha}`);
    expect(modernFile(w)).toContain(`\r\nsmv.conn.pdd_geo.path = ${DIR}/TCD.20160802.geo\r\n`);
  });

  it('checks the sync into the consumer\'s publishDir before pinning the SMV path', async () => {
    const { w, b } = await start(MODERN_FILES, { publishDir: true });
    const before = w.remoteLog('main', MODERN);
    const refused = await b.command('adopt geo TCD.20160802.geo', teamC);
    expect(refused.reply).toContain(`Version TCD.20160802.geo is not in the consumer's publish dir ${w.modernPublishDir} yet`);
    expect(w.remoteLog('main', MODERN)).toEqual(before);

    copyVersion(w.publishDir, w.modernPublishDir, 'TCD.20160802.geo');
    const adopted = await b.command('adopt geo TCD.20160802.geo', teamC);
    expect(adopted.visibility).toBe('in_channel');
    expect(modernFile(w)).toContain(`smv.conn.pdd_geo.path = ${DIR}/TCD.20160802.geo`);
  });
});

describe('reading pins of a connection-style consumer', () => {
  it('/smv pins and /smv releases show managed pins, unmanaged paths with their value, and unset connections', async () => {
    const { w, b } = await start();
    await b.command('adopt geo TCD.20160701.geo', teamC);

    const pins = await b.command('pins', teamC);
    expect(pins.reply).toContain(`Pins of ${MODERN} (branch main)`);
    expect(pins.reply).toContain(`geo* → \`TCD.20160701.geo\` (smv.conn.pdd_geo.path in ${CONNECTIONS_PATH}) — 1 version behind latest \`TCD.20160802.geo\``);
    expect(pins.reply).toContain(`cms* → not managed by smvbot: smv.conn.pdd_cms.path = \`/mnt/manual/cms\` (in ${CONNECTIONS_PATH})`);
    expect(pins.reply).toContain('trial* → not pinned (smv.conn.pdd_trial.path is not set)');

    const releases = await b.command('releases', teamC);
    expect(releases.reply).toMatch(new RegExp(`TCD\\.20160701\\.geo\` [^\\n]*pinned by ${MODERN}`));
    expect(releases.reply).toContain(`${MODERN} reads \`/mnt/manual/cms\`: not managed by smvbot`);

    // The stage-pin consumer's answers are as before.
    const stagePins = await b.command('pins', { channel: TEAM_B_CHANNEL });
    expect(stagePins.reply).toContain('geo* → `TCD.20160701.geo` (smv.stages.geo.version in the user conf)');
    expect(w.remoteLog()).toHaveLength(1);
  });
});

describe('unpin for a connection-style consumer', () => {
  it('removes the path and the type the bot added, restoring the file, and says when another file still sets it', async () => {
    const { w, b } = await start();
    await b.command('adopt geo TCD.20160802.geo', teamC);
    const answer = await b.command('unpin geo', teamC);
    const sha = w.remoteLog('main', MODERN)[0]!.slice(0, 7);
    expect(answer.visibility).toBe('in_channel');
    expect(answer.reply).toContain(`<@${ADOPTER}> unpinned geo for ${MODERN} (was TCD.20160802.geo) — commit ${sha}.`);
    expect(modernFile(w)).toBe(CONNECTIONS_PROPS);

    const nothing = await b.command('unpin geo', teamC);
    expect(nothing.reply).toContain(`geo has no pin in ${MODERN}'s ${CONNECTIONS_PATH}. Nothing to commit.`);
  });

  it('keeps a type a person wrote, and says what the app conf still points at', async () => {
    const files = { ...MODERN_FILES, 'conf/smv-app-conf.props': `smv.appName = M\nsmv.conn.pdd_cms.path = ${DIR}/TCD.20160701.cms\n` };
    const { w, b } = await start(files);
    const answer = await b.command('unpin cms', teamC);
    expect(answer.reply).toContain(`unpinned cms for ${MODERN} (was /mnt/manual/cms)`);
    expect(answer.reply).toContain(`Note: smv.conn.pdd_cms.path in conf/smv-app-conf.props still pins it to \`TCD.20160701.cms\``);
    expect(modernFile(w)).toBe(CONNECTIONS_PROPS.replace('smv.conn.pdd_cms.path = /mnt/manual/cms\r\n', ''));
  });

  it('refuses a user who may not adopt, and writes nothing', async () => {
    const { w, b } = await start();
    const before = w.remoteLog('main', MODERN);
    const answer = await b.command('unpin cms', { ...teamC, user: 'U0STRANGER' });
    expect(answer.reply).toContain(`You are not allowed to change pins for \`${MODERN}\``);
    expect(w.remoteLog('main', MODERN)).toEqual(before);
    void CONSUMER;
  });
});

describe('App Home for a connection-style consumer', () => {
  /** Opens the Home tab as `user`; the blocks of the view the bot published for them, and its id. */
  function openHome(b: BotUnderTest, user: string): Promise<{ id: string; blocks: Block[] }> {
    return b.openHome<{ blocks: Block[] }>(user);
  }

  /** The row of `stage` in the part of the tab about `consumer` (rows follow the consumer's title). */
  function rowOf(blocks: Block[], consumer: string, stage: string): { text: string; button: Button | undefined } {
    const start = blocks.findIndex((bl) => (bl.text?.text ?? '').startsWith(`*${consumer}* (branch`));
    expect(start, `no part for ${consumer}`).toBeGreaterThanOrEqual(0);
    for (const bl of blocks.slice(start + 1)) {
      const line = bl.text?.text.split('\n').find((l) => l.startsWith(`*${stage}* ·`));
      if (line) return { text: bl.accessory ? bl.text!.text : line, button: bl.accessory };
    }
    throw new Error(`no row for ${stage} of ${consumer}`);
  }

  it('shows connection pins, an unmanaged path with its value, an unset connection, and Adopt latest pins the path', async () => {
    const { w, b } = await start();
    await b.command('adopt geo TCD.20160701.geo', teamC);

    const home = await openHome(b, ADOPTER);
    const geo = rowOf(home.blocks, MODERN, 'geo');
    expect(geo.text).toBe('*geo* · pinned `TCD.20160701.geo` · latest `TCD.20160802.geo` · 1 behind');
    expect(rowOf(home.blocks, MODERN, 'cms').text).toBe(
      '*cms* · not managed by smvbot: smv.conn.pdd_cms.path = `/mnt/manual/cms` · latest `TCD.20160802.cms`',
    );
    expect(rowOf(home.blocks, MODERN, 'trial').text).toBe('*trial* · not pinned (smv.conn.pdd_trial.path is not set) · latest `TCD.20160802.trial`');
    // The stage-pin consumer's rows are as before.
    expect(rowOf(home.blocks, CONSUMER, 'trial').text).toBe('*trial* · not pinned (live code) · latest `TCD.20160802.trial`');

    expect(JSON.parse(geo.button!.value)).toEqual({ consumer: MODERN, stage: 'com.acme.geo', version: 'TCD.20160802.geo' });
    const published = b.slack.calls('views.publish').length;
    const click = b.slack.viewBlockAction({ actionId: geo.button!.action_id, value: geo.button!.value, userId: ADOPTER, viewId: home.id });
    expect((await b.send(click)).status).toBe(200);
    const told = await b.slack.waitForCall('chat.postMessage', (c) => c.ok && c.args.channel === TEAM_C_CHANNEL && String(c.args.text).includes('TCD.20160802.geo'), 30_000);
    expect(String(told.args.text)).toMatch(new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160802\\.geo for ${MODERN} \\(was TCD\\.20160701\\.geo\\) — commit [0-9a-f]{7}$`));
    expect(modernFile(w)).toContain(`\r\nsmv.conn.pdd_geo.path = ${DIR}/TCD.20160802.geo\r\n`);
    // The tab is published again with the new pin (read back from the repo).
    const after = await b.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'views.publish' && b.slack.calls('views.publish').indexOf(r) >= published,
      30_000,
      'views.publish after the Adopt',
    );
    if (after.kind !== 'call') throw new Error('not a call');
    expect(rowOf((after.args.view as { blocks: Block[] }).blocks, MODERN, 'geo').text).toMatch(/^\*geo\* · pinned `TCD\.20160802\.geo` · latest `TCD\.20160802\.geo` · up to date/);
  });
});
