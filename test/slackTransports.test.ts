// The same Slack surface over both ways Slack reaches the bot (SPEC §4): signed HTTP requests to
// /slack/events, and Socket Mode (SLACK_APP_TOKEN set: apps.connections.open on SLACK_API_URL,
// `hello`, envelopes acked by envelope_id, `disconnect`). Commands, the Adopt button, the modal,
// App Home and event redelivery behave alike; Socket Mode also reconnects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../dev/slack/slackStandIn.ts';
import {
  ADOPTER,
  ANNOUNCE_CHANNEL,
  APP_TOKEN,
  BotUnderTest,
  TEAM_B_CHANNEL,
  World,
  removeSeededRemotes,
  topText,
  visibilityOf,
  type Transport,
} from './support/botHarness.ts';

const OTHER = 'other-model';

afterAll(removeSeededRemotes);

/** TCD.20160802.geo announced in a channel bound to client-model and in one bound to no consumer. */
async function announcedWorld(transport: Transport): Promise<{ world: World; bot: BotUnderTest }> {
  const world = new World({ publisherChannels: [ANNOUNCE_CHANNEL, TEAM_B_CHANNEL], extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }] });
  const bot = await BotUnderTest.start(world, undefined, { transport });
  world.publish('com.acme.geo', 'TCD.20160802.geo');
  await bot.bot.scanNow();
  return { world, bot };
}

// One world per transport: each test adopts for a consumer no other test adopts for, or only reads.
// The `/smv releases` test needs pins no command has read yet, so it has its own.
describe.each<Transport>(['http', 'socket'])('over %s', (transport) => {
  let world: World;
  let bot: BotUnderTest;
  let inTeamChannel: StoredMessage;
  let inAnnounceChannel: StoredMessage;

  beforeAll(async () => {
    ({ world, bot } = await announcedWorld(transport));
    inTeamChannel = bot.slack.messages(TEAM_B_CHANNEL)[0]!;
    inAnnounceChannel = bot.slack.messages(ANNOUNCE_CHANNEL)[0]!;
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('is healthy, and reaches Slack only through SLACK_API_URL (Socket Mode: with the app-level token)', async () => {
    const health = await bot.healthz();
    expect(health.status).toBe(200);
    expect(health.body.ok).toBe(true);
    const opens = bot.slack.calls('apps.connections.open');
    if (transport === 'socket') {
      expect(opens[0]).toMatchObject({ ok: true, token: APP_TOKEN });
      expect(bot.slack.socketMode.openCount).toBe(1);
    } else {
      expect(opens).toEqual([]);
    }
  });

  it('`/smv help` is answered in the ack', async () => {
    const { reply, visibility, followUp } = await bot.command('help');
    expect(followUp).toBeUndefined();
    expect(visibility).toBe('ephemeral');
    expect(reply).toContain('/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]');
  });

  it('`/smv releases` is acked, then answered on response_url with the latest marked', async () => {
    const own = await announcedWorld(transport);
    try {
      const { reply, followUp } = await own.bot.command('releases geo');
      expect(followUp).toBeDefined();
      expect(reply).toMatch(/`TCD\.20160802\.geo`[^\n]*_latest/);
    } finally {
      await own.bot.stop();
      own.world.cleanup();
    }
  });

  it('the Adopt button in a channel bound to a consumer adopts and says so in the channel', async () => {
    const { ack, request } = await bot.clickAdopt(inTeamChannel, 0);
    expect(ack.status).toBe(200);
    const answer = await bot.slack.waitForResponse(request.responseUrl, 30_000);
    expect(visibilityOf(answer.body)).toBe('in_channel');
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit ${world.remoteLog()[0]!.slice(0, 7)}`);
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('in a channel bound to no consumer, a modal asks which one; submitting it adopts', async () => {
    const click = await bot.clickAdopt(inAnnounceChannel, 0);
    const triggerId = (click.request.body as { trigger_id: string }).trigger_id;
    const opened = await bot.slack.waitForCall('views.open', (c) => c.ok && c.args.trigger_id === triggerId);
    const view = opened.args.view as { callback_id: string; blocks: { type: string; element?: { options: { value: string }[] } }[] };
    expect(view.blocks.find((b) => b.type === 'input')!.element!.options.map((o) => o.value)).toEqual(['client-model', OTHER]);

    const submitted = await bot.send(
      bot.slack.viewSubmission({ userId: ADOPTER, callbackId: view.callback_id, values: { consumer: { consumer: { type: 'static_select', selected_option: { value: OTHER } } } } }),
    );
    expect(submitted.status).toBe(200);
    expect(submitted.text).toBe('');
    const answer = await bot.slack.waitForResponse(click.request.responseUrl, 30_000);
    expect(topText(answer.body)).toContain(`adopted geo TCD.20160802.geo for ${OTHER}`);
    expect(world.remoteFile(undefined, undefined, OTHER)).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('when Slack will not open the modal, the user is told what to type instead', async () => {
    bot.slack.failNext('views.open', 1, { ok: false, error: 'invalid_arguments' });
    const click = await bot.clickAdopt(inAnnounceChannel, 0);
    const answer = await bot.slack.waitForResponse(click.request.responseUrl, 30_000);
    expect(visibilityOf(answer.body)).toBe('ephemeral');
    expect(topText(answer.body)).toContain('Slack would not open the dialog to choose a consumer (invalid_arguments), so nothing was adopted.');
    expect(topText(answer.body)).toContain('`/smv adopt geo TCD.20160802.geo &lt;consumer&gt;`'); // mrkdwn-escaped: Slack shows <consumer>
  });

  it('App Home is published when opened; the same event delivered again is handled once', async () => {
    const before = bot.slack.calls('views.publish').length;
    const event = bot.slack.eventCallback({ type: 'app_home_opened', user: ADOPTER, channel: 'D0HOME', tab: 'home' });
    expect((await bot.send(event)).status).toBe(200);
    await bot.slack.waitForCall('views.publish', (c) => c.ok && c.args.user_id === ADOPTER);
    // Slack redelivers when it did not see the ack in time: same event_id.
    if (transport === 'socket') await bot.slack.sendOverSocket(event, { retryAttempt: 1 });
    else expect((await bot.send(event)).status).toBe(200);
    // A later, different event proves the redelivery was processed (and dropped) before it.
    const next = bot.slack.eventCallback({ type: 'app_home_opened', user: 'U0SECOND', channel: 'D0HOME2', tab: 'home' });
    await bot.send(next);
    await bot.slack.waitForCall('views.publish', (c) => c.ok && c.args.user_id === 'U0SECOND');
    const published = bot.slack.calls('views.publish').slice(before);
    expect(published.map((c) => c.args.user_id)).toEqual([ADOPTER, 'U0SECOND']);
  });

  if (transport === 'socket') {
    it('reconnects when Slack sends `disconnect`, and when the connection dies; commands work after each', async () => {
      const opened = bot.slack.socketMode.openedCount;
      bot.slack.socketMode.requestReconnect();
      await bot.slack.socketMode.waitForConnections(opened + 1, 30_000);
      expect((await bot.command('help')).reply).toContain('/smv adopt');

      bot.slack.socketMode.killConnections();
      await bot.slack.socketMode.waitForConnections(opened + 2, 30_000);
      expect((await bot.command('releases geo')).reply).toContain('TCD.20160802.geo');
      expect(bot.slack.calls('apps.connections.open').filter((c) => c.ok).length).toBeGreaterThanOrEqual(3);
    });
  }
});
