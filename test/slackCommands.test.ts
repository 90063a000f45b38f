// `/smv` through the real HTTP endpoint: signed like Slack, answered in the ack or on
// response_url, with the effects on the consumer's git remote (SPEC §4, §5).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { StartupError } from '../src/main.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { ADMIN, ADOPTER, BOT_TOKEN, BotUnderTest, SIGNING_SECRET, CONSUMER, STRANGER, TEAM_B_CHANNEL, USER_CONF, World, topText, removeSeededRemotes } from './support/botHarness.ts';
import { copyVersion, writeVersion } from '../dev/world/publishFixtures.ts';

afterAll(removeSeededRemotes);

/** A world with TCD.20160701.* recorded silently at start and TCD.20160802.* published since. */
async function startedWorld(opts: ConstructorParameters<typeof World>[0] = {}): Promise<{ world: World; bot: BotUnderTest }> {
  const world = new World(opts);
  const bot = await BotUnderTest.start(world);
  world.publishAll('TCD.20160802');
  await bot.bot.scanNow();
  return { world, bot };
}

/** A `<` that starts none of Slack's own forms (`<@U…>`, `<#C…>`, `<!here>`, `<https://…|…>`). */
const SLACK_MARKUP_THAT_IS_NOT_SLACKS = /<(?![@#!]|https?:\/\/|mailto:)/;

const ownWorlds: { world: World; bot: BotUnderTest }[] = [];
afterEach(async () => {
  for (const { world, bot } of ownWorlds.splice(0)) {
    await bot.stop();
    world.cleanup();
  }
});

/** A started world of the test's own (stopped after it): for a test that changes pins or depends on a cold cache. */
async function ownWorld(opts: ConstructorParameters<typeof World>[0] = {}): Promise<{ world: World; bot: BotUnderTest }> {
  const started = await startedWorld(opts);
  ownWorlds.push(started);
  return started;
}

/** The reply line mentioning `needle`. */
function lineWith(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle));
  if (line === undefined) throw new Error(`No line mentions ${needle} in:\n${text}`);
  return line;
}

describe('signature verification', () => {
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('answers 401 to a bad signature or a timestamp more than 5 minutes off either way, and does nothing else', async () => {
    const remoteBefore = world.remoteLog();
    // An admin's adopt would commit if it were processed.
    const forged = bot.commandRequest('adopt trial TCD.20160701.trial', { user: ADMIN });
    const stale = bot.commandRequest('adopt trial TCD.20160701.trial', { user: ADMIN });
    const future = bot.commandRequest('adopt trial TCD.20160701.trial', { user: ADMIN });

    const badSignature = await bot.send(forged, { secret: 'not-the-signing-secret' });
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const staleSignature = await bot.send(stale, { timestamp: sixMinutesAgo });
    // Correctly signed, but stamped 6 minutes ahead: Slack's rule is |now - ts| > 300 s (Bolt checks only the past).
    const sixMinutesAhead = Math.floor(Date.now() / 1000) + 6 * 60;
    const futureSignature = await bot.send(future, { timestamp: sixMinutesAhead });

    expect(badSignature.status).toBe(401);
    expect(staleSignature.status).toBe(401);
    expect(futureSignature.status).toBe(401);
    expect(bot.slack.responses(future.responseUrl)).toEqual([]);
    // A correctly signed command afterwards is served, so the bot is up and the refusals were deliberate.
    const after = await bot.command('releases');
    expect(after.reply).toContain('Latest releases');

    expect(bot.slack.responses(forged.responseUrl)).toEqual([]);
    expect(bot.slack.responses(stale.responseUrl)).toEqual([]);
    expect(bot.slack.calls().filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(world.remoteLog()).toEqual(remoteBefore);
    expect(await bot.bot.state.adoptions()).toEqual([]);
  });

  it('a request without any signature headers is refused too', async () => {
    const request = bot.commandRequest('help');
    const res = await fetch(bot.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(request.body as Record<string, string>).toString(),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('/smv adopt');
  });
});

// Read-only (or refused) commands against one world: TCD.20160701.* pinned, TCD.20160802.* published since.
// None changes what another reads, so they may run in any order.
describe('reading commands', () => {
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    ({ world, bot } = await startedWorld());
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('`/smv` and `/smv help` answer usage with examples, privately, in the ack', async () => {
    for (const text of ['', 'help']) {
      const { ack, reply, visibility, request } = await bot.command(text);
      expect(ack.status).toBe(200);
      expect(visibility).toBe('ephemeral');
      for (const usage of [
        '/smv releases [stage]',
        '/smv pins [consumer]',
        '/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]',
        '/smv unpin &lt;stage&gt; [consumer]',
        '/smv diff &lt;stage&gt; &lt;version1&gt; &lt;version2&gt;',
        '/smv history [stage] [consumer]',
      ]) {
        expect(reply).toContain(usage);
      }
      expect(reply).toContain('/smv adopt geo TCD.20160802.geo');
      // Placeholders are escaped text: a raw `<version|latest>` is Slack link syntax (a link to
      // "version" labelled "latest"), and `<stage>` a broken link. Only Slack's own forms may start with `<`.
      expect(reply).not.toMatch(SLACK_MARKUP_THAT_IS_NOT_SLACKS);
      expect(bot.slack.responses(request.responseUrl)).toEqual([]);
    }
  });

  it('`/smv help adopt` answers just that command', async () => {
    const { reply } = await bot.command('help adopt');
    expect(reply).toContain('/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]');
    expect(reply).not.toMatch(SLACK_MARKUP_THAT_IS_NOT_SLACKS);
    expect(reply).not.toContain('/smv diff');
  });

  it('`/smv releases` is acked empty at once and answered on response_url, marking latest and the pin', async () => {
    // Its own world: any earlier command of this block may have left the pins read, and then the answer comes in the ack.
    const { bot } = await ownWorld();
    const { ack, followUp, reply, visibility } = await bot.command('releases');
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');
    expect(followUp).toBeDefined();
    expect(visibility).toBe('ephemeral');
    for (const base of ['geo', 'cms', 'trial']) {
      expect(reply).toContain(`*${base}* (\`com.acme.${base}\`, public-data) — 2 complete versions`);
      expect(lineWith(reply, `TCD.20160802.${base}\``)).toContain('_latest_');
      expect(lineWith(reply, `TCD.20160802.${base}\``)).toContain('1 module,');
    }
    expect(lineWith(reply, 'TCD.20160701.geo`')).toContain(':pushpin: pinned by client-model');
    expect(lineWith(reply, 'TCD.20160701.cms`')).toContain(':pushpin: pinned by client-model');
    expect(lineWith(reply, 'TCD.20160701.trial`')).not.toContain('pinned');
    expect(lineWith(reply, 'TCD.20160701.trial`')).not.toContain('latest');

    // The pins were just read from git: asked again, the same answer comes in the ack itself.
    const again = await bot.command('releases');
    expect(again.followUp).toBeUndefined();
    expect(again.visibility).toBe('ephemeral');
    expect(again.reply).toBe(reply);
    expect(bot.slack.responses(again.request.responseUrl)).toEqual([]);
  });

  it('`/smv releases geo` lists only geo, marking latest and the consumer\'s pin', async () => {
    const { reply, visibility } = await bot.command('releases geo');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Releases of geo');
    expect(reply).not.toContain('cms');
    expect(reply).not.toContain('trial');
    expect(lineWith(reply, 'TCD.20160802.geo`')).toContain('_latest_');
    expect(lineWith(reply, 'TCD.20160701.geo`')).toContain(':pushpin: pinned by client-model');
  });

  it('`/smv pins` shows each effective pin and how far behind latest it is', async () => {
    const { ack, reply, visibility } = await bot.command('pins');
    expect(ack.text).toBe('');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Pins of client-model (branch main)');
    expect(lineWith(reply, '*geo*')).toBe(
      '• *geo* → `TCD.20160701.geo` (smv.stages.geo.version in the user conf) — 1 version behind latest `TCD.20160802.geo`',
    );
    expect(lineWith(reply, '*cms*')).toContain('1 version behind latest `TCD.20160802.cms`');
    expect(lineWith(reply, '*trial*')).toBe('• *trial* → not pinned (live code) — latest is `TCD.20160802.trial`');
    expect(reply).not.toContain(':warning:');
  });

  it('`/smv pins <consumer>` names the consumer explicitly; an unknown one is refused with the choices', async () => {
    expect((await bot.command(`pins ${CONSUMER}`)).reply).toContain('Pins of client-model');
    const { reply, visibility, ack } = await bot.command('pins nobody');
    expect(visibility).toBe('ephemeral');
    expect(ack.text).not.toBe('');
    expect(reply).toContain('There is no consumer called `nobody`. Known consumers: `client-model`.');
  });

  it('an unknown subcommand is refused with the list and a suggestion', async () => {
    const { reply, visibility, request } = await bot.command('relases');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Unknown subcommand `relases`. Did you mean `/smv releases`?');
    expect(reply).toContain('`adopt`');
    expect(reply).toContain('/smv help');
    expect(bot.slack.responses(request.responseUrl)).toEqual([]);
  });

  it('an unknown stage is refused in the ack, naming the known stages', async () => {
    const { reply, visibility, ack } = await bot.command('adopt geography TCD.20160802.geo');
    expect(ack.text).not.toBe('');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Unknown stage `geography`. Known stages: cms, geo, trial.');
  });

  it('a version that is not a directory name is refused, and nothing is committed', async () => {
    const before = world.remoteLog();
    const { reply, visibility } = await bot.command('adopt geo ../../etc/passwd');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Version "../../etc/passwd" contains a path separator');
    expect(reply).toContain('e.g. TCD.20160802.geo');
    expect(world.remoteLog()).toEqual(before);
  });

  it('a version that was never published is refused with the newest ones', async () => {
    const { reply, visibility } = await bot.command('adopt geo TCD.20990101.geo');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('There is no published version "TCD.20990101.geo" for com.acme.geo');
    expect(reply).toContain('TCD.20160802.geo');
  });

  it('adopt by someone who is not an adopter is refused privately and leaves the remote untouched', async () => {
    const before = world.remoteLog();
    const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo', { user: STRANGER });
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('You are not allowed to change pins for `client-model`.');
    expect(reply).toContain(`<@${ADOPTER}>`);
    expect(reply).toContain(STRANGER);
    expect(world.remoteLog()).toEqual(before);
    expect(world.remoteFile()).toBe(USER_CONF);
    expect(await bot.bot.state.adoptions()).toEqual([]);
  });

  it('`/smv history` with a name that is neither a stage nor a consumer says what it knows', async () => {
    const { reply, visibility } = await bot.command('history nowhere');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('`nowhere` is neither a stage nor a consumer. Consumers: `client-model`.');
  });

  it('opening the App Home as someone who adopts for no consumer publishes the latest releases and the usage', async () => {
    const answer = await bot.send(bot.slack.eventCallback({ type: 'app_home_opened', user: STRANGER, channel: 'D0HOME', tab: 'home' }));
    expect(answer.status).toBe(200);
    const published = await bot.slack.waitForCall('views.publish');
    expect(published.args.user_id).toBe(STRANGER);
    const view = published.args.view as { type: string; blocks: { type: string; text?: { text: string } }[] };
    expect(view.type).toBe('home');
    const text = view.blocks.map((b) => b.text?.text ?? '').join('\n');
    expect(text).toContain('smvbot — SMV stage releases');
    expect(lineWith(text, 'TCD.20160802.geo`')).toContain('_latest_');
    expect(text).toContain('/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]');
    expect(text).not.toMatch(SLACK_MARKUP_THAT_IS_NOT_SLACKS);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('`/smv history` with nothing adopted yet says how to adopt', async () => {
    const { ack, visibility } = await bot.command('history');
    expect(visibility).toBe('ephemeral');
    expect(topText(ack.body)).toBe('No adoptions recorded for client-model. Pin one with `/smv adopt &lt;stage&gt; &lt;version&gt;`.');
  });
});

// Each test builds its own world (TCD.20160701.* pinned, TCD.20160802.* published since) and makes the
// changes it starts from itself, so they run in any order.
describe('changing pins', () => {
  it('`/smv adopt geo <version>` commits as the user, pushes, and says so in the channel', async () => {
    const { world, bot } = await ownWorld();
    const { ack, followUp, visibility } = await bot.command('adopt geo TCD.20160802.geo');
    expect(ack.text).toBe('');
    expect(visibility).toBe('in_channel');
    const [head] = world.remoteLog();
    const sha = head!.slice(0, 40);
    expect(topText(followUp!.body)).toBe(
      `<@${ADOPTER}> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit ${sha.slice(0, 7)}`,
    );
    expect(head).toBe(`${sha} Bea Adopter <${ADOPTER}@users.slack.invalid> | smvbot | Adopt geo TCD.20160802.geo for client-model`);
    expect(world.commitMessage()).toContain('Previous: TCD.20160701.geo');
    expect(world.commitMessage()).toContain(`Adopted-by: Bea Adopter (${ADOPTER})`);
    expect(world.remoteFile()).toBe(USER_CONF.replace('smv.stages.geo.version = TCD.20160701.geo', 'smv.stages.geo.version = TCD.20160802.geo'));
  });

  it('adopting the version already pinned commits nothing and says so privately', async () => {
    const { world, bot } = await ownWorld();
    const before = world.remoteLog();
    const { reply, visibility } = await bot.command('adopt geo TCD.20160701.geo');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('geo is already pinned to `TCD.20160701.geo` for client-model');
    expect(reply).toContain('Nothing to commit.');
    expect(world.remoteLog()).toEqual(before);
  });

  it('`/smv adopt cms latest` pins the newest complete version', async () => {
    const { world, bot } = await ownWorld();
    const { followUp, visibility } = await bot.command('adopt cms latest', { user: ADMIN });
    expect(visibility).toBe('in_channel');
    const sha = world.remoteLog()[0]!.slice(0, 7);
    expect(topText(followUp!.body)).toBe(`<@${ADMIN}> adopted cms TCD.20160802.cms for client-model (was TCD.20160701.cms) — commit ${sha}`);
    expect(world.remoteFile()).toContain('smv.stages.cms.version = TCD.20160802.cms');
  });

  it('`/smv pins` reads the new pins from the remote', async () => {
    const { bot } = await ownWorld();
    await bot.command('pins');
    await bot.command('adopt geo TCD.20160802.geo');
    await bot.command('adopt cms latest', { user: ADMIN });
    const { reply } = await bot.command('pins');
    expect(lineWith(reply, '*geo*')).toContain('`TCD.20160802.geo` (smv.stages.geo.version in the user conf) — up to date');
    expect(lineWith(reply, '*cms*')).toContain('up to date');
  });

  it('`/smv history` lists who adopted what, from → to, with the commit', async () => {
    const { world, bot } = await ownWorld();
    await bot.command('adopt geo TCD.20160802.geo');
    await bot.command('adopt cms latest', { user: ADMIN });
    const { reply, visibility, ack } = await bot.command('history');
    expect(ack.text).not.toBe('');
    expect(visibility).toBe('ephemeral');
    const [cmsCommit, geoCommit] = world.remoteLog().map((l) => l.slice(0, 7));
    expect(reply).toContain('Recent adoptions for client-model');
    expect(lineWith(reply, 'adopted geo')).toContain(
      `<@${ADOPTER}> (Bea Adopter) adopted geo \`TCD.20160802.geo\` for client-model (was TCD.20160701.geo) — commit \`${geoCommit}\``,
    );
    expect(lineWith(reply, 'adopted cms')).toContain(`<@${ADMIN}> (Ada Admin) adopted cms \`TCD.20160802.cms\``);
    expect(lineWith(reply, 'adopted cms')).toContain(`commit \`${cmsCommit}\``);
    // Newest first.
    expect(reply.indexOf('adopted cms')).toBeLessThan(reply.indexOf('adopted geo'));

    const geoOnly = await bot.command('history geo');
    expect(geoOnly.reply).toContain('Recent adoptions of geo for client-model');
    expect(geoOnly.reply).not.toContain('adopted cms');
  });

  it('`/smv unpin geo` removes the pin key and says so in the channel', async () => {
    const { world, bot } = await ownWorld();
    const { visibility, followUp } = await bot.command('unpin geo');
    expect(visibility).toBe('in_channel');
    const [head] = world.remoteLog();
    expect(topText(followUp!.body)).toBe(`<@${ADOPTER}> unpinned geo for client-model (was TCD.20160701.geo) — commit ${head!.slice(0, 7)}.`);
    expect(world.remoteFile()).not.toContain('smv.stages.geo.version');
    expect(world.remoteFile()).toContain('smv.stages.cms.version = TCD.20160701.cms');
    expect(world.remoteFile()).toContain('# TeamB pins the stage versions it builds on');

    const again = await bot.command('unpin geo');
    expect(again.visibility).toBe('ephemeral');
    expect(again.reply).toContain("geo has no pin in client-model's conf/smv-user-conf.props. Nothing to commit.");
  });

  it('`/smv unpin` by a stranger is refused and leaves the remote untouched', async () => {
    const { world, bot } = await ownWorld();
    const before = world.remoteLog();
    const { reply, visibility } = await bot.command('unpin cms', { user: STRANGER });
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('You are not allowed to change pins for `client-model`.');
    expect(world.remoteLog()).toEqual(before);
  });

  it('answers while the slow part is still running: the ack comes back before users.info is even answered', async () => {
    const { bot } = await ownWorld();
    // Hold Slack's users.info (asked for the commit author's name) until the ack has arrived.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    bot.slack.setHandler('users.info', async (args) => {
      await held;
      return { ok: true, user: { id: args.user, name: 'bea', real_name: 'Bea Adopter', profile: { real_name: 'Bea Adopter' } } };
    });
    try {
      const request = bot.commandRequest('adopt trial TCD.20160802.trial');
      const ack = await bot.send(request);
      expect(ack.status).toBe(200);
      expect(ack.text).toBe('');
      expect(bot.slack.responses(request.responseUrl)).toEqual([]);
      release();
      const answer = await bot.slack.waitForResponse(request.responseUrl);
      expect(topText(answer.body)).toMatch(/^<@U0ADOPTER> adopted trial TCD\.20160802\.trial for client-model \(was none\) — commit [0-9a-f]{7}$/);
    } finally {
      release();
      bot.slack.setHandler('users.info', undefined);
    }
  });

  it('two adopts sent at the same moment both land, one after the other', async () => {
    const { world, bot } = await ownWorld();
    const before = world.remoteLog().length;
    const [geo, cms] = await Promise.all([
      bot.command('adopt geo TCD.20160802.geo', { user: ADMIN }),
      bot.command('adopt cms TCD.20160802.cms', { user: ADMIN }),
    ]);
    expect([geo.visibility, cms.visibility]).toEqual(['in_channel', 'in_channel']);
    expect(topText(geo.followUp!.body)).toContain('adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo)');
    expect(topText(cms.followUp!.body)).toContain('adopted cms TCD.20160802.cms for client-model (was TCD.20160701.cms)');
    expect(world.remoteLog()).toHaveLength(before + 2);
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
    expect(world.remoteFile()).toContain('smv.stages.cms.version = TCD.20160802.cms');
  });
});

describe('unpin while the app conf still pins the stage', () => {
  it('removes the user conf pin and says the app conf still decides the version', async () => {
    const { world, bot } = await ownWorld({
      appConf: 'smv.appName = Client Model\nsmv.stages = com.acme.trial\nsmv.stages.com.acme.trial.version = TCD.20160701.trial\n',
      userConf: 'smv.stages.trial.version = TCD.20160802.trial\n',
    });
    const { visibility, followUp } = await bot.command('unpin trial');
    expect(visibility).toBe('in_channel');
    const sha = world.remoteLog()[0]!.slice(0, 7);
    expect(topText(followUp!.body)).toBe(
      `<@${ADOPTER}> unpinned trial for client-model (was TCD.20160802.trial) — commit ${sha}. ` +
        'Note: smv.stages.com.acme.trial.version in the app conf still pins it to `TCD.20160701.trial`, so SMV keeps using that version.',
    );
    expect(world.remoteFile()).toBe('');
    const pins = await bot.command('pins');
    expect(lineWith(pins.reply, '*trial*')).toContain('`TCD.20160701.trial` (smv.stages.com.acme.trial.version in the app conf) — 1 version behind latest');
  });
});

// One world: only the FQN test changes a pin (geo, which no other test here reads), so the order does not matter.
describe('stage and consumer resolution', () => {
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    ({ world, bot } = await startedWorld({
      extraStages: ['com.other.geo'],
      userConf: 'smv.stages.cms.version = TCD.20160701.cms\n',
      extraConsumers: [{ name: 'other-model', channels: ['C0OTHER'] }],
    }));
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('a base name shared by two stages is refused, listing the FQNs to type instead', async () => {
    const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Stage `geo` is ambiguous: it is the base name of `com.acme.geo`, `com.other.geo`.');
    expect(reply).toContain('Type one of those FQNs instead');
  });

  it('the FQN resolves the ambiguity', async () => {
    const { followUp, visibility } = await bot.command('adopt com.acme.geo TCD.20160802.geo');
    expect(visibility).toBe('in_channel');
    expect(topText(followUp!.body)).toMatch(/^<@U0ADOPTER> adopted com\.acme\.geo TCD\.20160802\.geo for client-model \(was none\) — commit [0-9a-f]{7}$/);
    expect(world.remoteFile()).toBe('smv.stages.cms.version = TCD.20160701.cms\nsmv.stages.com.acme.geo.version = TCD.20160802.geo\n');
  });

  it('from a channel bound to no consumer, with several configured, the error lists the choices', async () => {
    const { reply, visibility, ack } = await bot.command('pins', { channel: 'C0RANDOM' });
    expect(ack.text).not.toBe('');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('Which consumer? This channel is not bound to one: `client-model`, `other-model`.');
    expect(reply).toContain('Add the consumer name at the end, e.g. `… client-model`.');
  });

  it('naming the consumer works from any channel; a bound channel picks its own', async () => {
    expect((await bot.command('pins other-model', { channel: 'C0RANDOM' })).reply).toContain('Pins of other-model');
    expect((await bot.command('pins', { channel: 'C0OTHER' })).reply).toContain('Pins of other-model');
    expect((await bot.command('pins', { channel: TEAM_B_CHANNEL })).reply).toContain('Pins of client-model');
  });
});

// Each test changes the publish dirs in its own way: each has its own world.
describe('pins warnings', () => {

  it('warns when a pinned version is not synced into the consumer\'s publish dir', async () => {
    const { world, bot } = await ownWorld({ consumerPublishDir: true });
    copyVersion(world.publishDir, world.consumerPublishDir, 'TCD.20160701.geo');
    const { reply } = await bot.command('pins');
    const geo = reply.slice(reply.indexOf('*geo*')).split('\n• ')[0]!;
    const cms = reply.slice(reply.indexOf('*cms*')).split('\n• ')[0]!;
    expect(geo).not.toContain(':warning:');
    expect(cms).toContain(
      ":warning: not synced: Version TCD.20160701.cms is not in the consumer's publish dir " + world.consumerPublishDir + ' yet.',
    );
    expect(cms).toContain(`rsync -a ${world.publishDir}/TCD.20160701.cms/ ${world.consumerPublishDir}/TCD.20160701.cms/`);
  });

  it('adopt refuses a version the consumer has not synced, saying how to sync it', async () => {
    const { world, bot } = await ownWorld({ consumerPublishDir: true });
    const before = world.remoteLog();
    const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain("Version TCD.20160802.geo is not in the consumer's publish dir");
    expect(reply).toContain('rsync -a');
    expect(world.remoteLog()).toEqual(before);
  });

  it('warns when a pinned version was deleted from the publisher\'s publish dir', async () => {
    const { world, bot } = await ownWorld({ consumerPublishDir: true });
    fs.rmSync(path.join(world.publishDir, 'TCD.20160701.geo'), { recursive: true });
    await bot.bot.scanNow();
    const { reply } = await bot.command('pins');
    const geo = reply.slice(reply.indexOf('*geo*')).split('\n• ')[0]!;
    expect(geo).toContain(
      ":warning: TCD.20160701.geo is no longer in public-data's publish dir: SMV runs against it will fail. Adopt a current version.",
    );
    // The deleted version is no longer offered.
    const releases = await bot.command('releases geo');
    expect(lineWith(releases.reply, 'TCD.20160701.geo')).toContain('client-model pins `TCD.20160701.geo` (older or not published)');
    expect(releases.reply).toContain('1 complete version');
  });

  it('takes no version away when the publish dir cannot be listed (moved or unmounted), and says why in /healthz', async () => {
    const { world, bot } = await ownWorld();
    const before = (await bot.command('releases geo')).reply;
    expect(before).toContain('2 complete versions');
    const aside = path.join(world.root, 'publish-unmounted');
    fs.renameSync(world.publishDir, aside);
    await bot.bot.scanNow();
    expect((await bot.command('releases geo')).reply).toBe(before);
    const health = await bot.healthz();
    expect(JSON.stringify(health.body.problems)).toContain(`publishDir ${world.publishDir} does not exist (yet)`);

    // Back, and one version deleted meanwhile: that one is gone, the other stays.
    fs.renameSync(aside, world.publishDir);
    fs.rmSync(path.join(world.publishDir, 'TCD.20160701.geo'), { recursive: true });
    await bot.bot.scanNow();
    expect((await bot.command('releases geo')).reply).toContain('1 complete version');
  });
});

describe('`/smv diff`', () => {
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    const fqn = 'com.acme.geo.GeoSummary';
    writeVersion(world.publishDir, 'TCD.20160901.geo', [
      { fqn, columns: [{ name: 'id', type: 'String' }, { name: 'amt', type: 'Double' }, { name: 'zip', type: 'String' }] },
      { fqn: 'com.acme.geo.Old', columns: [{ name: 'k', type: 'String' }] },
    ]);
    writeVersion(world.publishDir, 'TCD.20160902.geo', [
      { fqn, columns: [{ name: 'id', type: 'String' }, { name: 'amt', type: 'Integer' }, { name: 'county', type: 'String' }] },
      { fqn: 'com.acme.geo.New', columns: [{ name: 'k', type: 'String' }] },
    ]);
    await bot.bot.scanNow();
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('lists modules added/removed and columns added, removed and retyped', async () => {
    const { reply, visibility, ack } = await bot.command('diff geo TCD.20160901.geo TCD.20160902.geo');
    expect(ack.text).toBe('');
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('geo: TCD.20160901.geo → TCD.20160902.geo');
    expect(reply).toContain(':heavy_plus_sign: module `com.acme.geo.New`');
    expect(reply).toContain(':heavy_minus_sign: module `com.acme.geo.Old`');
    expect(reply).toContain('*`com.acme.geo.GeoSummary`*');
    expect(reply).toContain('+ `county` String');
    expect(reply).toContain('− `zip` String');
    expect(reply).toContain('~ `amt` Double → Integer');
    expect(reply).not.toContain('`id`');
  });

  it('two identical versions: no changes', async () => {
    const { reply } = await bot.command('diff geo TCD.20160701.geo TCD.20160701.geo');
    expect(reply).toContain('no module or column changes');
  });

  it('a missing version or a missing argument is refused with what to type', async () => {
    const missing = await bot.command('diff geo TCD.20160901.geo TCD.20990101.geo');
    expect(missing.visibility).toBe('ephemeral');
    expect(missing.reply).toContain("`TCD.20990101.geo` is not in public-data's publish dir. See `/smv releases geo`");
    const short = await bot.command('diff geo TCD.20160901.geo');
    expect(short.reply).toContain('needs a stage and two versions. Try `/smv diff geo TCD.20160801.geo TCD.20160802.geo`.');
  });
});

describe('secrets', () => {
  /** A logger at debug level whose lines the test can read. */
  function capturingLogger() {
    const lines: string[] = [];
    return { lines, logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } }) };
  }

  it('a failing git remote with credentials in its URL: neither the reply nor the log shows them', async () => {
    const password = 'hunter2-git-password';
    const { lines, logger } = capturingLogger();
    const world = new World({ consumerRepo: `http://smvbot:${password}@127.0.0.1:9/client-model.git` });
    const bot = await BotUnderTest.start(world, undefined, { logger });
    try {
      world.publishAll('TCD.20160802');
      await bot.bot.scanNow();
      const pins = await bot.command('pins');
      expect(pins.visibility).toBe('ephemeral');
      const adopt = await bot.command('adopt geo TCD.20160802.geo');
      expect(adopt.visibility).toBe('ephemeral');
      expect(adopt.reply).toContain('Nothing was changed on the remote.');
      // Pins on the unreachable repo: git's gist and the same kind-specific advice adopt gives,
      // one period, and a warn line like adopt's (no error level, no stack).
      const advice = 'The bot cannot reach the git server: check the host name, port, proxy and firewall.';
      expect(adopt.reply).toContain(advice);
      expect(pins.reply).toContain('Could not read the pins of `client-model` (http://***@127.0.0.1:9/client-model.git, branch `main`): fatal: unable to access');
      expect(pins.reply).toContain('Failed to connect to 127.0.0.1 port 9');
      expect(pins.reply).toContain(advice);
      expect(pins.reply).not.toContain('..');
      expect(pins.reply).not.toContain('Try again, or ask an admin');
      const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; git?: string; stack?: string; err?: unknown });
      expect(logged.find((l) => l.msg === 'pins failed')).toMatchObject({ level: 40, git: 'unreachable', consumer: CONSUMER });
      expect(logged.find((l) => l.msg === 'adopt failed')).toMatchObject({ level: 40, git: 'unreachable' });
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
      const releases = await bot.command('releases');
      expect(releases.reply).toContain("_Could not read client-model's pins (fatal: unable to access");
      expect(releases.reply).toContain('TCD.20160802.geo');
      for (const text of [pins.reply, adopt.reply, releases.reply, ...lines]) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(BOT_TOKEN);
        expect(text).not.toContain(SIGNING_SECRET);
      }
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('a token revoked while running: announcements stay pending, and no log line shows the token or the secret', async () => {
    const { lines, logger } = capturingLogger();
    const world = new World();
    const bot = await BotUnderTest.start(world, undefined, { logger });
    try {
      bot.slack.setHandler('chat.postMessage', () => ({ ok: false, error: 'token_revoked' }));
      world.publish('com.acme.geo', 'TCD.20160802.geo');
      expect(await bot.bot.scanNow()).toMatchObject({ announced: 0, failedPosts: 1 });
      await bot.send(bot.commandRequest('adopt geo TCD.20160802.geo', { user: STRANGER }));
      await bot.command('help');
      expect(lines.join('')).toContain('token_revoked');
      for (const line of lines) {
        expect(line).not.toContain(BOT_TOKEN);
        expect(line).not.toContain(SIGNING_SECRET);
      }
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });

  it('a bot token Slack rejects at start-up: a StartupError that says what to do, the data dir left free', async () => {
    const { lines, logger } = capturingLogger();
    const world = new World();
    const rejected = 'xoxb-revoked-3333-4444';
    const slack = new SlackStandIn({ botToken: BOT_TOKEN });
    await slack.start();
    try {
      const refused = new BotUnderTest(world, slack, { logger, env: { SLACK_BOT_TOKEN: rejected } });
      const error = await refused.startBot().then(() => null, (e: unknown) => e as StartupError);
      expect(error).toBeInstanceOf(StartupError);
      expect(error!.exitCode).toBe(1);
      expect(error!.message).toContain('Slack rejected SLACK_BOT_TOKEN (invalid_auth)');
      expect(error!.message).toContain('OAuth & Permissions');
      for (const text of [error!.message, ...lines]) expect(text).not.toContain(rejected);
      // Nothing was left behind: the right token starts on the same data dir.
      const good = await BotUnderTest.start(world, slack);
      await good.bot.stop();
    } finally {
      await slack.close();
      world.cleanup();
    }
  });
});
