import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ADOPT_ACTION_PREFIX } from '../render/announcement.ts';
import type { BotServices, Reply } from '../services.ts';
import { ADOPT_MODAL_CALLBACK, CONSUMER_ACTION, CONSUMER_BLOCK, handleAdoptButton } from './adoptButton.ts';
import { handleAdoptModal } from './adoptModal.ts';
import { homeView } from './appHome.ts';
import { handleSmvCommand } from './smvCommand.ts';

/** One place that ties Bolt's events to the plain handler functions (which tests call directly). */
export function registerListeners(app: App, services: BotServices): void {
  app.command('/smv', async ({ command, ack, respond }) => {
    await handleSmvCommand(
      services,
      { text: command.text ?? '', userId: command.user_id, channelId: command.channel_id },
      (reply) => ack(reply as never),
      (reply) => respond(reply as never),
    );
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${ADOPT_ACTION_PREFIX}`), async ({ ack, body, action, respond, client }) => {
    await ack();
    await handleAdoptButton(
      services,
      {
        value: action.value,
        userId: body.user.id,
        channelId: body.channel?.id ?? body.container?.channel_id ?? '',
        triggerId: body.trigger_id,
        ...(body.response_url ? { responseUrl: body.response_url } : {}),
      },
      (reply) => respond(reply as never),
      (triggerId, view) => client.views.open({ trigger_id: triggerId, view: view as never }),
    );
  });

  app.view(ADOPT_MODAL_CALLBACK, async ({ ack, body, view, client }) => {
    await ack();
    const selected = view.state.values[CONSUMER_BLOCK]?.[CONSUMER_ACTION]?.selected_option?.value;
    await handleAdoptModal(
      services,
      { privateMetadata: view.private_metadata, selectedConsumer: selected, userId: body.user.id },
      (responseUrl, channelId, reply) => sendReply(client, responseUrl, channelId, body.user.id, reply),
    );
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: (await homeView(services)) as never });
  });
}

/** Answer through the button's response_url when we have it, else post to the channel. */
async function sendReply(client: App['client'], responseUrl: string | undefined, channelId: string, userId: string, reply: Reply): Promise<void> {
  if (responseUrl) {
    const res = await fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(reply) });
    if (res.ok) return;
  }
  const message = { channel: channelId, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks as never } : {}) };
  if (reply.response_type === 'in_channel') await client.chat.postMessage(message);
  else await client.chat.postEphemeral({ ...message, user: userId });
}
