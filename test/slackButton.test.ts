// The Adopt button on announcements (SPEC §4): the same adopt path as `/smv adopt`, for the
// channel's consumer, or through a "which consumer?" modal when the channel does not decide.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../dev/slack/slackStandIn.ts';
import { ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, STRANGER, TEAM_B_CHANNEL, USER_CONF, World, topText, visibilityOf, removeSeededRemotes } from './support/botHarness.ts';

const OTHER = 'other-model';

afterAll(removeSeededRemotes);

// A world per test: an adopt updates its announcement in the background (a test counting Slack's
// calls would see that), and a modal or an adopt of one test would be seen by the next.
describe('Adopt button', () => {
  let world: World;
  let bot: BotUnderTest;
  /** The announcement of TCD.20160802.geo in a channel bound to client-model, and in one bound to no consumer. */
  let inTeamChannel: StoredMessage;
  let inAnnounceChannel: StoredMessage;

  beforeEach(async () => {
    world = new World({
      publisherChannels: [ANNOUNCE_CHANNEL, TEAM_B_CHANNEL],
      extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }],
    });
    bot = await BotUnderTest.start(world);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    inTeamChannel = bot.slack.messages(TEAM_B_CHANNEL)[0]!;
    inAnnounceChannel = bot.slack.messages(ANNOUNCE_CHANNEL)[0]!;
  });
  afterEach(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('a stranger clicking it is refused privately, and nothing is committed', async () => {
    const before = world.remoteLog();
    const { ack, request } = await bot.clickAdopt(inTeamChannel, 0, STRANGER);
    expect(ack.status).toBe(200);
    const answer = await bot.slack.waitForResponse(request.responseUrl);
    expect(visibilityOf(answer.body)).toBe('ephemeral');
    expect(topText(answer.body)).toContain('You are not allowed to change pins for `client-model`.');
    expect(world.remoteLog()).toEqual(before);
  });

  it('in a channel bound to a consumer, adopts for that consumer and says so in the channel', async () => {
    const { ack, request } = await bot.clickAdopt(inTeamChannel, 0);
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');
    const answer = await bot.slack.waitForResponse(request.responseUrl);
    const [head] = world.remoteLog();
    expect(visibilityOf(answer.body)).toBe('in_channel');
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit ${head!.slice(0, 7)}`);
    // The announcement stays as it was: the answer is a new message, not a replacement.
    expect((answer.body as { replace_original?: boolean }).replace_original).toBe(false);
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
    expect(world.remoteFile(undefined, undefined, OTHER)).toBe(USER_CONF);
    expect(bot.slack.calls('views.open')).toEqual([]);
  });

  it('in a channel bound to no consumer, with two configured, asks which one in a modal; submitting adopts', async () => {
    const otherBefore = world.remoteLog('main', OTHER);
    const click = await bot.clickAdopt(inAnnounceChannel, 0);
    expect(click.ack.status).toBe(200);

    const opened = await bot.slack.waitForCall('views.open');
    expect(opened.args.trigger_id).toBe((click.request.body as { trigger_id: string }).trigger_id);
    const view = opened.args.view as { callback_id: string; blocks: { type: string; text?: { text: string }; element?: { options: { value: string }[] } }[] };
    expect(view.blocks[0]!.text!.text).toBe('Pin *geo* to `TCD.20160802.geo` for which consumer?');
    const select = view.blocks.find((b) => b.type === 'input')!;
    expect(select.element!.options.map((o) => o.value)).toEqual(['client-model', OTHER]);
    // Nothing happens until a consumer is chosen.
    expect(bot.slack.responses(click.request.responseUrl)).toEqual([]);
    expect(world.remoteLog('main', OTHER)).toEqual(otherBefore);

    const submission = bot.slack.viewSubmission({
      userId: ADOPTER,
      callbackId: view.callback_id,
      values: { consumer: { consumer: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: OTHER }, value: OTHER } } } },
    });
    const submitted = await bot.send(submission);
    expect(submitted.status).toBe(200);
    // The modal closes (an empty ack) and the answer goes where the button was clicked.
    expect(submitted.text).toBe('');
    const answer = await bot.slack.waitForResponse(click.request.responseUrl);
    const [head] = world.remoteLog('main', OTHER);
    expect(visibilityOf(answer.body)).toBe('in_channel');
    expect(topText(answer.body)).toBe(`<@${ADOPTER}> adopted geo TCD.20160802.geo for ${OTHER} (was TCD.20160701.geo) — commit ${head!.slice(0, 7)}`);
    expect(world.remoteFile(undefined, undefined, OTHER)).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('submitting the modal without a choice adopts nothing and says why', async () => {
    const click = await bot.clickAdopt(inAnnounceChannel, 0);
    await bot.slack.waitForCall('views.open', (c) => c.args.trigger_id === (click.request.body as { trigger_id: string }).trigger_id);
    const before = world.remoteLog('main', OTHER);
    const submitted = await bot.send(bot.slack.viewSubmission({ userId: ADOPTER, callbackId: 'smv_adopt_consumer', values: { consumer: { consumer: { type: 'static_select', selected_option: null } } } }));
    expect(submitted.status).toBe(200);
    const answer = await bot.slack.waitForResponse(click.request.responseUrl);
    expect(visibilityOf(answer.body)).toBe('ephemeral');
    expect(topText(answer.body)).toContain('No consumer was chosen, so nothing was adopted.');
    expect(world.remoteLog('main', OTHER)).toEqual(before);
  });

  it('when the click\'s response_url no longer works, the modal\'s answer is posted in the channel instead', async () => {
    world.publish('com.acme.geo', 'TCD.20160803.geo');
    await bot.bot.scanNow();
    const announcement = bot.slack.messages(ANNOUNCE_CHANNEL).find((m) => m.text?.includes('TCD.20160803.geo'))!;
    const click = await bot.clickAdopt(announcement, 0);
    await bot.slack.waitForCall('views.open', (c) => c.args.trigger_id === (click.request.body as { trigger_id: string }).trigger_id);
    bot.slack.failNext('response_url', 1, { ok: false, error: 'expired_url' });
    const posted = bot.slack.calls('chat.postMessage').length;
    await bot.send(bot.slack.viewSubmission({ userId: ADOPTER, callbackId: 'smv_adopt_consumer', values: { consumer: { consumer: { type: 'static_select', selected_option: { value: OTHER } } } } }));
    const fallback = await bot.slack.waitForCall('chat.postMessage', (c) => c.ok && String(c.args.text).includes('TCD.20160803.geo for other-model'));
    expect(fallback.args.channel).toBe(ANNOUNCE_CHANNEL);
    expect(fallback.args.text).toBe(`<@${ADOPTER}> adopted geo TCD.20160803.geo for ${OTHER} (was TCD.20160701.geo) — commit ${world.remoteLog('main', OTHER)[0]!.slice(0, 7)}`);
    expect(bot.slack.calls('chat.postMessage').length).toBe(posted + 1);
  });

  it('a button click with a bad signature is refused with 401 and opens nothing', async () => {
    const calls = bot.slack.calls().length;
    const request = bot.slack.blockAction({
      actionId: 'smv_adopt:0',
      value: JSON.stringify({ stage: 'com.acme.trial', version: 'TCD.20160701.trial' }),
      userId: ADOPTER,
      channelId: TEAM_B_CHANNEL,
      messageTs: inTeamChannel.ts,
    });
    const answer = await bot.send(request, { secret: 'forged' });
    expect(answer.status).toBe(401);
    expect(bot.slack.calls()).toHaveLength(calls);
    expect(bot.slack.responses(request.responseUrl)).toEqual([]);
  });
});
