// Several stages in one commit through the real bot (issue #28): `/smv adopt geo V1 cms V2
// [consumer]` signed like Slack, and the Adopt all button of an announcement of a version holding
// several stages, with its "which consumer?" modal. Effects read from the consumers' bare remotes.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyVersion } from '../dev/world/publishFixtures.ts';
import {
  ADOPTER,
  ANNOUNCE_CHANNEL,
  BotWorlds,
  MODERN,
  STRANGER,
  TEAM_B_CHANNEL,
  TEAM_C_CHANNEL,
  USER_CONF,
  adoptButtons,
  modulesFor,
  removeSeededRemotes,
  topText,
  visibilityOf,
  type World,
  type BotUnderTest,
} from './support/botHarness.ts';
import type { StoredMessage } from '../dev/slack/slackStandIn.ts';

afterAll(removeSeededRemotes);
const worlds = new BotWorlds();
afterEach(() => worlds.stopAll());

const OTHER = 'other-model';
/** A release of TeamA's whole app: geo and cms in one version dir. */
const BOTH = 'TCD.20160803';

/** client-model's user conf with geo and cms pinned to `version`. */
const pinnedTo = (geo: string, cms: string) => USER_CONF.replace('TCD.20160701.geo', geo).replace('TCD.20160701.cms', cms);

async function started(opts: Parameters<BotWorlds['start']>[0] = {}): Promise<{ world: World; bot: BotUnderTest }> {
  const { world, bot } = await worlds.start(opts);
  world.publishAll('TCD.20160802');
  await bot.bot.scanNow();
  return { world, bot };
}

/** Publishes BOTH and returns its announcement in `channel`. */
async function announceBoth(world: World, bot: BotUnderTest, channel: string): Promise<StoredMessage> {
  world.publish('com.acme.geo', BOTH, { modules: [...modulesFor('com.acme.geo'), ...modulesFor('com.acme.cms')] });
  await bot.bot.scanNow();
  const message = bot.slack.messages(channel).find((m) => m.text?.includes(BOTH));
  if (!message) throw new Error(`${BOTH} was not announced in ${channel}`);
  return message;
}

function adoptAllIndex(message: StoredMessage): number {
  const index = adoptButtons(message).findIndex((b) => b.text.text === 'Adopt all');
  if (index < 0) throw new Error('no Adopt all button');
  return index;
}

describe('/smv adopt with several stages', () => {
  it('pins both in one commit and tells the channel, naming each stage with what it was', async () => {
    const { world, bot } = await started();
    const before = world.remoteLog();

    const { ack, followUp, visibility } = await bot.command('adopt geo TCD.20160802.geo cms latest');

    expect(ack.text).toBe('');
    const log = world.remoteLog();
    expect(log).toHaveLength(before.length + 1);
    expect(visibility).toBe('in_channel');
    expect(topText(followUp!.body)).toBe(
      `<@${ADOPTER}> adopted geo TCD.20160802.geo (was TCD.20160701.geo), cms TCD.20160802.cms (was TCD.20160701.cms) for client-model — commit ${log[0]!.slice(0, 7)}`,
    );
    expect(world.remoteFile()).toBe(pinnedTo('TCD.20160802.geo', 'TCD.20160802.cms'));
    expect(world.commitMessage()).toBe(
      'Adopt geo TCD.20160802.geo, cms TCD.20160802.cms for client-model\n\nPrevious: geo TCD.20160701.geo\nPrevious: cms TCD.20160701.cms\nAdopted-by: Bea Adopter (U0ADOPTER)\n\n',
    );
    const history = await bot.command('history * client-model');
    expect(history.reply).toContain(`adopted geo \`TCD.20160802.geo\` for client-model (was TCD.20160701.geo) — commit \`${log[0]!.slice(0, 7)}\``);
    expect(history.reply).toContain(`adopted cms \`TCD.20160802.cms\` for client-model (was TCD.20160701.cms) — commit \`${log[0]!.slice(0, 7)}\``);
  });

  it('takes the consumer as an odd last word', async () => {
    const { world, bot } = await started({ extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }] });

    const { followUp } = await bot.command(`adopt geo latest cms latest ${OTHER}`, { channel: ANNOUNCE_CHANNEL });

    expect(topText(followUp!.body)).toMatch(new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160802\\.geo \\(was TCD\\.20160701\\.geo\\), cms TCD\\.20160802\\.cms \\(was TCD\\.20160701\\.cms\\) for ${OTHER} — commit [0-9a-f]{7}$`));
    expect(world.remoteFile(undefined, undefined, OTHER)).toBe(pinnedTo('TCD.20160802.geo', 'TCD.20160802.cms'));
    expect(world.remoteFile()).toBe(USER_CONF);
  });

  it('one stage not synced to the consumer\'s publish dir: nothing committed, and the answer names that stage\'s problem, privately', async () => {
    const { world, bot } = await started({ consumerPublishDir: true });
    copyVersion(world.publishDir, world.consumerPublishDir, 'TCD.20160802.geo');
    const before = world.remoteLog();

    const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo cms TCD.20160802.cms');

    expect(visibility).toBe('ephemeral');
    expect(reply.split('\n').slice(0, 2)).toEqual([
      'Nothing was adopted for `client-model`: the stages are adopted together or not at all, and one cannot be adopted:',
      `• cms \`TCD.20160802.cms\`: Version TCD.20160802.cms is not in the consumer's publish dir ${world.consumerPublishDir} yet. ` +
        `Sync it, e.g. \`rsync -a ${world.publishDir}/TCD.20160802.cms/ ${world.consumerPublishDir}/TCD.20160802.cms/\`, then try again.`,
    ]);
    expect(world.remoteLog()).toEqual(before);
  });

  it('refuses the same stage twice in the ack, before anything is queued', async () => {
    const { world, bot } = await started();
    const before = world.remoteLog();

    const { ack, visibility, followUp } = await bot.command('adopt geo latest cms latest com.acme.geo TCD.20160802.geo');

    expect(ack.status).toBe(200);
    expect(followUp).toBeUndefined();
    expect(visibility).toBe('ephemeral');
    expect(topText(ack.body)).toBe('geo is named 2 times (`latest`, `TCD.20160802.geo`): name each stage once, with the version to pin. Nothing was changed.');
    expect(world.remoteLog()).toEqual(before);
  });

  it('two sent at once for one consumer both land, in order, each on the other\'s commit', async () => {
    const { world, bot } = await started();
    world.publishAll('TCD.20160903');
    await bot.bot.scanNow();
    const before = world.remoteLog();

    // Both acked (written to the consumer's queue) before either has run its git.
    const first = bot.commandRequest('adopt geo TCD.20160802.geo cms TCD.20160802.cms');
    const second = bot.commandRequest('adopt cms TCD.20160903.cms trial TCD.20160903.trial');
    expect((await bot.send(first)).text).toBe('');
    expect((await bot.send(second)).text).toBe('');
    const [a, b] = await Promise.all([bot.slack.waitForResponse(first.responseUrl), bot.slack.waitForResponse(second.responseUrl)]);

    const log = world.remoteLog();
    expect(log.slice(2)).toEqual(before);
    expect(log[1]).toContain('| Adopt geo TCD.20160802.geo, cms TCD.20160802.cms for client-model');
    expect(log[0]).toContain('| Adopt cms TCD.20160903.cms, trial TCD.20160903.trial for client-model');
    expect(topText(a.body)).toContain(`(was TCD.20160701.cms) for client-model — commit ${log[1]!.slice(0, 7)}`);
    expect(topText(b.body)).toBe(
      `<@${ADOPTER}> adopted cms TCD.20160903.cms (was TCD.20160802.cms), trial TCD.20160903.trial (was none) for client-model — commit ${log[0]!.slice(0, 7)}`,
    );
    expect(world.remoteFile()).toBe(pinnedTo('TCD.20160802.geo', 'TCD.20160903.cms') + 'smv.stages.trial.version = TCD.20160903.trial\n');
  });

  it('for a connection consumer, writes each connection path into conf/connections.props in one commit', async () => {
    const files = {
      'conf/smv-app-conf.props': 'smv.appName = Modern Model\nsmv.stages = com.teamc.model\n',
      'conf/connections.props': 'smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = hdfs:///data/team-c/publish/TCD.20160701.geo\nsmv.conn.pdd_cms.type = hdfs\n',
    };
    const { world, bot } = await started({ connectionConsumer: { files } });

    const { followUp, visibility } = await bot.command('adopt geo TCD.20160802.geo cms TCD.20160802.cms', { channel: TEAM_C_CHANNEL });

    const [head] = world.remoteLog('main', MODERN);
    expect(visibility).toBe('in_channel');
    expect(topText(followUp!.body)).toBe(`<@${ADOPTER}> adopted geo TCD.20160802.geo (was TCD.20160701.geo), cms TCD.20160802.cms (was none) for ${MODERN} — commit ${head!.slice(0, 7)}`);
    expect(world.remoteFile('conf/connections.props', 'main', MODERN)).toBe(
      'smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = hdfs:///data/team-c/publish/TCD.20160802.geo\nsmv.conn.pdd_cms.type = hdfs\n' +
        'smv.conn.pdd_cms.path = hdfs:///data/team-c/publish/TCD.20160802.cms\n',
    );
    expect(world.commitMessage('main', MODERN)).toContain('Previous: geo TCD.20160701.geo\nPrevious: cms none\n');
  });
});

describe('the Adopt all button', () => {
  it('on the announcement of a version holding several stages: pins every stage in one commit for the channel\'s consumer', async () => {
    const { world, bot } = await started({ publisherChannels: [ANNOUNCE_CHANNEL, TEAM_B_CHANNEL] });
    const announcement = await announceBoth(world, bot, TEAM_B_CHANNEL);
    expect(adoptButtons(announcement).map((b) => b.text.text)).toEqual(['Adopt cms', 'Adopt geo', 'Adopt all']);
    const before = world.remoteLog();

    const { ack, request } = await bot.clickAdopt(announcement, adoptAllIndex(announcement));

    expect(ack.status).toBe(200);
    const answer = await bot.slack.waitForResponse(request.responseUrl);
    const log = world.remoteLog();
    expect(log.slice(1)).toEqual(before);
    expect(visibilityOf(answer.body)).toBe('in_channel');
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted cms ${BOTH} (was TCD.20160701.cms), geo ${BOTH} (was TCD.20160701.geo) for client-model — commit ${log[0]!.slice(0, 7)}`);
    expect(world.remoteFile()).toBe(pinnedTo(BOTH, BOTH));
    expect(bot.slack.calls('views.open')).toEqual([]);
  });

  it('clicked by someone who may not adopt: refused privately, nothing committed', async () => {
    const { world, bot } = await started({ publisherChannels: [TEAM_B_CHANNEL] });
    const announcement = await announceBoth(world, bot, TEAM_B_CHANNEL);
    const before = world.remoteLog();

    const { request } = await bot.clickAdopt(announcement, adoptAllIndex(announcement), STRANGER);

    const answer = await bot.slack.waitForResponse(request.responseUrl);
    expect(visibilityOf(answer.body)).toBe('ephemeral');
    expect(topText(answer.body)).toContain('You are not allowed to change pins for `client-model`.');
    expect(world.remoteLog()).toEqual(before);
  });

  it('in a channel bound to no consumer, asks which one in a modal; submitting pins every stage for that one', async () => {
    const { world, bot } = await started({ extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }] });
    const announcement = await announceBoth(world, bot, ANNOUNCE_CHANNEL);

    const click = await bot.clickAdopt(announcement, adoptAllIndex(announcement));
    const opened = await bot.slack.waitForCall('views.open');
    const view = opened.args.view as { callback_id: string; blocks: { type: string; text?: { text: string }; element?: { options: { value: string }[] } }[] };
    expect(view.blocks[0]!.text!.text).toBe(`Pin *cms*, *geo* to \`${BOTH}\`, in one commit, for which consumer?`);
    expect(view.blocks.find((b) => b.type === 'input')!.element!.options.map((o) => o.value)).toEqual(['client-model', OTHER]);

    await bot.send(
      bot.slack.viewSubmission({
        userId: ADOPTER,
        callbackId: view.callback_id,
        values: { consumer: { consumer: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: OTHER }, value: OTHER } } } },
      }),
    );
    const answer = await bot.slack.waitForResponse(click.request.responseUrl);
    const [head] = world.remoteLog('main', OTHER);
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted cms ${BOTH} (was TCD.20160701.cms), geo ${BOTH} (was TCD.20160701.geo) for ${OTHER} — commit ${head!.slice(0, 7)}`);
    expect(world.remoteFile(undefined, undefined, OTHER)).toBe(pinnedTo(BOTH, BOTH));
    expect(world.remoteFile()).toBe(USER_CONF);
  });
});
