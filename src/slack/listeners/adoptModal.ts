import { enqueueAdopt, enqueueAdoptAll } from '../commands/adopt.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { ephemeral, type BotServices, type Reply } from '../services.ts';
import type { AdoptModalState } from './adoptButton.ts';

export interface AdoptModalInput {
  /** `private_metadata` already verified and opened (null when its signature did not match). */
  state: AdoptModalState | null;
  selectedConsumer: string | undefined;
  userId: string;
}

/**
 * Submission of the "which consumer?" modal: the adopt is written to the state store before the
 * ack, and the command runner answers where the button was clicked.
 */
export async function handleAdoptModal(
  services: BotServices,
  input: AdoptModalInput,
  ack: () => Promise<void>,
  reply: (responseUrl: string | undefined, channelId: string, message: Reply) => Promise<unknown>,
): Promise<void> {
  const { state } = input;
  if (state === null) {
    await ack();
    services.log.warn({ user: input.userId }, 'adopt modal submitted with state the bot did not sign; ignored');
    return;
  }
  if (!input.selectedConsumer) {
    await ack();
    await reply(state.responseUrl, state.channelId, ephemeral(mrkdwnMessage('No consumer was chosen, so nothing was adopted. Click Adopt again and pick one.')));
    return;
  }
  const where = { consumer: input.selectedConsumer, via: 'modal' as const, userId: input.userId, channelId: state.channelId, responseUrl: state.responseUrl ?? null };
  const refused = state.stages
    ? await enqueueAdoptAll(services, { stages: state.stages, version: state.version, ...where })
    : await enqueueAdopt(services, { stage: state.stage, version: state.version, ...where });
  await ack();
  if (refused) await reply(state.responseUrl, state.channelId, refused);
}
