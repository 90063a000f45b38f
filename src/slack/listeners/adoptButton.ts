import { code, esc } from '../../domain/mrkdwn.ts';
import { parseAdoptButtonValue } from '../render/announcement.ts';
import { renderAdoptOutcome } from '../render/answers.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { ephemeral, inChannel, type BotServices, type Reply, type RespondFn } from '../services.ts';

export const ADOPT_MODAL_CALLBACK = 'smv_adopt_consumer';
export const CONSUMER_BLOCK = 'consumer';
export const CONSUMER_ACTION = 'consumer';

/** What the modal carries between the click and the submission. */
export interface AdoptModalState {
  stage: string;
  version: string;
  channelId: string;
  responseUrl?: string;
}

export interface AdoptButtonInput {
  value: string | undefined;
  userId: string;
  channelId: string;
  triggerId: string;
  responseUrl?: string;
}

/**
 * The Adopt button on an announcement: the same adopt path as `/smv adopt`, for the channel's
 * consumer; when the channel does not decide one, a modal asks which.
 */
export async function handleAdoptButton(
  services: BotServices,
  input: AdoptButtonInput,
  respond: RespondFn,
  openModal: (triggerId: string, view: object) => Promise<unknown>,
  seal: (state: AdoptModalState) => string,
): Promise<void> {
  const target = parseAdoptButtonValue(input.value);
  if (!target) {
    await respond(ephemeral(mrkdwnMessage('This Adopt button is malformed. Use `/smv adopt <stage> <version>` instead.')));
    return;
  }
  const consumer = services.topology.resolveConsumer(undefined, input.channelId);
  if (consumer.ok) {
    await respond(await runAdopt(services, consumer.consumer.name, target.stage, target.version, input.userId));
    return;
  }
  const bound = services.topology.consumersForChannel(input.channelId);
  const choices = (bound.length > 1 ? bound : services.topology.consumers).map((c) => c.name);
  if (!choices.length) {
    await respond(ephemeral(mrkdwnMessage('No consumers are configured, so there is nothing to adopt for. Add one under `consumers:` in smvbot.yml.')));
    return;
  }
  const state: AdoptModalState = { stage: target.stage, version: target.version, channelId: input.channelId, ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}) };
  await openModal(input.triggerId, adoptModal(state, seal(state), choices, services.topology.stage(target.stage)?.displayName ?? target.stage));
}

export async function runAdopt(services: BotServices, consumer: string, stage: string, version: string, userId: string): Promise<Reply> {
  try {
    const outcome = await services.adopt.adopt({ consumer, stage, version, userId });
    const { message, inChannel: public_ } = renderAdoptOutcome(outcome, userId);
    return public_ ? inChannel(message) : ephemeral(message);
  } catch (error) {
    services.log.error({ err: error }, 'adopt failed');
    return ephemeral(mrkdwnMessage(`Sorry, adopting ${esc(version)} failed unexpectedly (it is in the bot log). Try ${code(`/smv adopt ${stage} ${version}`)} again.`));
  }
}

function adoptModal(state: AdoptModalState, sealed: string, consumers: string[], stageName: string): object {
  return {
    type: 'modal',
    callback_id: ADOPT_MODAL_CALLBACK,
    // Signed: a submission can only carry back what the bot put there (stage, version, where to answer).
    private_metadata: sealed,
    title: { type: 'plain_text', text: 'Adopt version' },
    submit: { type: 'plain_text', text: 'Adopt' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Pin *${esc(stageName)}* to ${code(state.version)} for which consumer?` } },
      {
        type: 'input',
        block_id: CONSUMER_BLOCK,
        label: { type: 'plain_text', text: 'Consumer' },
        element: {
          type: 'static_select',
          action_id: CONSUMER_ACTION,
          options: consumers.slice(0, 100).map((name) => ({ text: { type: 'plain_text', text: esc(name) }, value: name })),
        },
      },
    ],
  };
}
