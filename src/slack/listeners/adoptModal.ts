import { mrkdwnMessage } from '../render/format.ts';
import { ephemeral, type BotServices, type Reply } from '../services.ts';
import { runAdopt, type AdoptModalState } from './adoptButton.ts';

export interface AdoptModalInput {
  /** `private_metadata` already verified and opened (null when its signature did not match). */
  state: AdoptModalState | null;
  selectedConsumer: string | undefined;
  userId: string;
}

/** Submission of the "which consumer?" modal: adopt, then answer where the button was clicked. */
export async function handleAdoptModal(
  services: BotServices,
  input: AdoptModalInput,
  reply: (responseUrl: string | undefined, channelId: string, message: Reply) => Promise<unknown>,
): Promise<void> {
  const { state } = input;
  if (state === null) {
    services.log.warn({ user: input.userId }, 'adopt modal submitted with state the bot did not sign; ignored');
    return;
  }
  if (!input.selectedConsumer) {
    await reply(state.responseUrl, state.channelId, ephemeral(mrkdwnMessage('No consumer was chosen, so nothing was adopted. Click Adopt again and pick one.')));
    return;
  }
  await reply(state.responseUrl, state.channelId, await runAdopt(services, { stage: state.stage, version: state.version, consumer: input.selectedConsumer, channelId: state.channelId }, input.userId));
}
