import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Outbound } from '../outbound.ts';
import { ADOPT_ACTION_PREFIX } from '../render/announcement.ts';
import type { BotServices, Reply } from '../services.ts';
import { ADOPT_MODAL_CALLBACK, CONSUMER_ACTION, CONSUMER_BLOCK, handleAdoptButton, type AdoptModalState } from './adoptButton.ts';
import { handleAdoptModal } from './adoptModal.ts';
import { homeView } from './appHome.ts';
import { handleHomeAdopt } from './homeAdopt.ts';
import { HOME_ADOPT_ACTION_PREFIX } from '../render/home.ts';
import { handleSmvCommand } from './smvCommand.ts';

/**
 * One place that ties Bolt's events to the plain handler functions (which tests call directly).
 * Every answer leaves through `outbound`: scrubbed of secrets, to Slack's hosts only.
 */
export function registerListeners(app: App, services: BotServices, outbound: Outbound): void {
  app.command('/smv', async ({ command, ack, client }) => {
    await handleSmvCommand(
      services,
      { text: command.text ?? '', userId: command.user_id, channelId: command.channel_id },
      (reply) => ack(outbound.scrub(reply)),
      (reply) => sendReply(client, outbound, services, command.response_url, command.channel_id, command.user_id, reply),
    );
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${ADOPT_ACTION_PREFIX}`), async ({ ack, body, action, client }) => {
    await ack();
    const channelId = body.channel?.id ?? body.container?.channel_id ?? '';
    await handleAdoptButton(
      services,
      {
        value: action.value,
        userId: body.user.id,
        channelId,
        triggerId: body.trigger_id,
        ...(outbound.allowsResponseUrl(body.response_url) ? { responseUrl: body.response_url } : {}),
      },
      (reply) => sendReply(client, outbound, services, body.response_url, channelId, body.user.id, reply),
      (triggerId, view) => client.views.open({ trigger_id: triggerId, view: outbound.scrub(view) }),
      (state) => outbound.seal(state),
    );
  });

  app.view(ADOPT_MODAL_CALLBACK, async ({ ack, body, view, client }) => {
    const state = outbound.unseal<AdoptModalState>(view.private_metadata);
    if (state === null) {
      // Not what the bot opened: say so in the modal itself, act on nothing in it.
      await ack({ response_action: 'errors', errors: { [CONSUMER_BLOCK]: 'This dialog could not be verified. Close it and click Adopt again.' } });
      services.log.warn({ user: body.user.id }, 'adopt modal submitted with state the bot did not sign; ignored');
      return;
    }
    await ack();
    const selected = view.state.values[CONSUMER_BLOCK]?.[CONSUMER_ACTION]?.selected_option?.value;
    await handleAdoptModal(services, { state, selectedConsumer: selected, userId: body.user.id }, (responseUrl, channelId, reply) =>
      sendReply(client, outbound, services, responseUrl, channelId, body.user.id, reply),
    );
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: outbound.scrub(await homeView(services, event.user)) });
  });

  // Adopt latest on the App Home: the button names the consumer; the tab is published again with the outcome.
  app.action<BlockAction<ButtonAction>>(new RegExp(`^${HOME_ADOPT_ACTION_PREFIX}:`), async ({ ack, body, action, client }) => {
    await ack();
    await handleHomeAdopt(
      services,
      { value: action.value, userId: body.user.id },
      (channel, message) => client.chat.postMessage({ channel, ...outbound.scrub(message), unfurl_links: false, unfurl_media: false }),
      (view) => client.views.publish({ user_id: body.user.id, view: outbound.scrub(view) }),
    );
  });
}

/**
 * Answer through the response_url when it is Slack's (or the configured API host's), else post
 * to the channel. A response_url pointing anywhere else is never posted to.
 */
async function sendReply(
  client: App['client'],
  outbound: Outbound,
  services: BotServices,
  responseUrl: string | undefined,
  channelId: string,
  userId: string,
  reply: Reply,
): Promise<void> {
  const safe = outbound.scrub(reply);
  if (outbound.allowsResponseUrl(responseUrl)) {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(safe),
      signal: AbortSignal.timeout(outbound.timeoutMs),
    }).catch(() => null);
    if (res?.ok) return;
    services.log.warn({ channel: channelId, status: res?.status ?? null }, 'response_url did not take the answer; sending it through the Web API instead');
  } else if (responseUrl) {
    services.log.warn({ channel: channelId }, 'response_url is not a Slack URL; answering in the channel instead');
  }
  const content = { text: safe.text, ...(safe.blocks ? { blocks: safe.blocks } : {}) };
  try {
    if (!channelId) throw new Error('no channel to answer in');
    if (safe.response_type === 'in_channel') await client.chat.postMessage({ channel: channelId, ...content });
    else await client.chat.postEphemeral({ channel: channelId, user: userId, ...content });
  } catch (error) {
    // Last path: the user's messages tab with the bot (posting to a user id), so the answer is not lost.
    services.log.warn({ err: error, channel: channelId }, 'could not answer in the channel; sending the answer to the user directly');
    await client.chat.postMessage({ channel: userId, ...content });
  }
}

