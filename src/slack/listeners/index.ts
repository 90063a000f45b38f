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
import { sendReply } from '../replies.ts';

/**
 * One place that ties Bolt's events to the plain handler functions (which tests call directly).
 * Every answer leaves through `outbound`: scrubbed of secrets, to Slack's hosts only.
 */
export function registerListeners(app: App, services: BotServices, outbound: Outbound): void {
  app.command('/smv', async ({ command, ack, client }) => {
    await handleSmvCommand(
      services,
      {
        text: command.text ?? '',
        userId: command.user_id,
        channelId: command.channel_id,
        ...(outbound.allowsResponseUrl(command.response_url) ? { responseUrl: command.response_url } : {}),
      },
      (reply) => ack(outbound.scrub(reply)),
      (reply) => sendReply(client, outbound, services, command.response_url, command.channel_id, command.user_id, reply),
    );
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${ADOPT_ACTION_PREFIX}`), async ({ ack, body, action, client }) => {
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
      () => ack(),
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
    const selected = view.state.values[CONSUMER_BLOCK]?.[CONSUMER_ACTION]?.selected_option?.value;
    await handleAdoptModal(
      services,
      { state, selectedConsumer: selected, userId: body.user.id },
      () => ack(),
      (responseUrl, channelId, reply) => sendReply(client, outbound, services, responseUrl, channelId, body.user.id, reply),
    );
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: outbound.scrub(await homeView(services, event.user)) });
  });

  // Adopt latest on the App Home: the button names the consumer; the tab is published again with the outcome.
  app.action<BlockAction<ButtonAction>>(new RegExp(`^${HOME_ADOPT_ACTION_PREFIX}:`), async ({ ack, body, action, client }) => {
    await handleHomeAdopt(services, { value: action.value, userId: body.user.id }, () => ack(), (view) =>
      client.views.publish({ user_id: body.user.id, view: outbound.scrub(view) }),
    );
  });
}

