import type { ModalView, PlainTextOption } from '@slack/types';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { stageNamedTwice } from '../../core/adopt.ts';
import type { KnownStage } from '../../core/topology.ts';
import { adoptAllAs, adoptAllReply, adoptAs, adoptFailedText, adoptReply, enqueueAdopt, enqueueAdoptAll } from '../commands/adopt.ts';
import { parseAdoptAllButtonValue, parseAdoptButtonValue, type AdoptAllButtonValue } from '../render/announcement.ts';
import { clip, mrkdwnMessage } from '../render/format.ts';
import { code, esc } from '../render/mrkdwn.ts';
import { renderRefusal } from '../render/refusals.ts';
import { ephemeral, type BotServices, type Reply, type RespondFn } from '../services.ts';

export const ADOPT_MODAL_CALLBACK = 'smv_adopt_consumer';
export const CONSUMER_BLOCK = 'consumer';
export const CONSUMER_ACTION = 'consumer';
/** Slack's limits for a static select: 100 options, 75 characters of option text. */
const MAX_OPTIONS = 100;
const OPTION_TEXT_MAX = 75;

/** What the modal carries between the click and the submission; `stages` for Adopt all (then `stage` is the first). */
export interface AdoptModalState {
  stage: string;
  version: string;
  channelId: string;
  responseUrl?: string;
  stages?: string[];
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
  ack: () => Promise<void>,
  respond: RespondFn,
  openModal: (triggerId: string, view: ModalView) => Promise<unknown>,
  seal: (state: AdoptModalState) => string,
): Promise<void> {
  const all = parseAdoptAllButtonValue(input.value);
  if (all) return handleAdoptAllButton(services, all, input, ack, respond, openModal, seal);
  const target = parseAdoptButtonValue(input.value);
  if (!target) {
    await ack();
    await respond(ephemeral(mrkdwnMessage('This Adopt button is malformed. Use `/smv adopt &lt;stage&gt; &lt;version&gt;` instead.')));
    return;
  }
  const consumer = services.topology.resolveConsumer(undefined, input.channelId);
  if (consumer.ok) {
    // Durable before the ack; the command runner adopts and answers (runAdopt).
    const refused = await enqueueAdopt(services, {
      stage: target.stage,
      version: target.version,
      consumer: consumer.consumer.name,
      via: 'button',
      userId: input.userId,
      channelId: input.channelId,
      responseUrl: input.responseUrl ?? null,
    });
    await ack();
    if (refused) await respond(refused);
    return;
  }
  await ack();
  const bound = services.topology.consumersForChannel(input.channelId);
  const choices = (bound.length > 1 ? bound : services.topology.consumers).map((c) => c.name);
  if (!choices.length) {
    await respond(ephemeral(mrkdwnMessage('No consumers are configured, so there is nothing to adopt for. Add one under `consumers:` in smvbot.yml.')));
    return;
  }
  const state: AdoptModalState = { stage: target.stage, version: target.version, channelId: input.channelId, ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}) };
  const stageName = services.topology.stage(target.stage)?.displayName ?? target.stage;
  try {
    await openModal(input.triggerId, adoptModal(state, seal(state), choices, stageName));
  } catch (error) {
    // Without the modal the click would do nothing visible: say so where the click came from.
    services.log.warn({ err: error, channel: input.channelId }, 'views.open failed for the Adopt button');
    await respond(
      ephemeral(
        mrkdwnMessage(
          `Slack would not open the dialog to choose a consumer (${esc(slackError(error))}), so nothing was adopted. ` +
            `Type ${code(`/smv adopt ${stageName} ${target.version} <consumer>`)} instead, with one of: ${esc(choices.slice(0, 20).join(', '))}${choices.length > 20 ? `, … and ${choices.length - 20} more` : ''}.`,
        ),
      ),
    );
  }
}

/** Adopt all: every stage of the version in one commit, for the channel's consumer, or the consumer the modal asks for. */
async function handleAdoptAllButton(
  services: BotServices,
  all: AdoptAllButtonValue,
  input: AdoptButtonInput,
  ack: () => Promise<void>,
  respond: RespondFn,
  openModal: (triggerId: string, view: ModalView) => Promise<unknown>,
  seal: (state: AdoptModalState) => string,
): Promise<void> {
  const consumer = services.topology.resolveConsumer(undefined, input.channelId);
  if (consumer.ok) {
    const refused = await enqueueAdoptAll(services, {
      stages: all.stages,
      version: all.version,
      consumer: consumer.consumer.name,
      via: 'button',
      userId: input.userId,
      channelId: input.channelId,
      responseUrl: input.responseUrl ?? null,
    });
    await ack();
    if (refused) await respond(refused);
    return;
  }
  await ack();
  const bound = services.topology.consumersForChannel(input.channelId);
  const choices = (bound.length > 1 ? bound : services.topology.consumers).map((c) => c.name);
  if (!choices.length) {
    await respond(ephemeral(mrkdwnMessage('No consumers are configured, so there is nothing to adopt for. Add one under `consumers:` in smvbot.yml.')));
    return;
  }
  const state: AdoptModalState = {
    stage: all.stages[0]!,
    stages: all.stages,
    version: all.version,
    channelId: input.channelId,
    ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
  };
  const stageNames = all.stages.map((fqn) => services.topology.stage(fqn)?.displayName ?? fqn);
  try {
    await openModal(input.triggerId, adoptModal(state, seal(state), choices, stageNames));
  } catch (error) {
    services.log.warn({ err: error, channel: input.channelId }, 'views.open failed for the Adopt all button');
    await respond(
      ephemeral(
        mrkdwnMessage(
          `Slack would not open the dialog to choose a consumer (${esc(slackError(error))}), so nothing was adopted. ` +
            `Type ${code(`/smv adopt ${stageNames.map((n) => `${n} ${all.version}`).join(' ')} <consumer>`)} instead, with one of: ${esc(choices.slice(0, 20).join(', '))}${choices.length > 20 ? `, … and ${choices.length - 20} more` : ''}.`,
        ),
      ),
    );
  }
}

function slackError(error: unknown): string {
  const code = (error as { data?: { error?: unknown } } | null)?.data?.error;
  return typeof code === 'string' ? code : String((error as Error)?.message ?? error);
}

/** Option text within Slack's 75 characters; the value keeps the full name. */
function optionText(name: string): string {
  return name.length <= OPTION_TEXT_MAX ? name : `${name.slice(0, OPTION_TEXT_MAX - 1)}…`;
}

/** Adopt from a click: names resolved here, once; the same use case as `/smv adopt`. */
export async function runAdopt(services: BotServices, target: { stage: string; version: string; consumer: string; channelId: string; resumedSince?: string }, userId: string): Promise<Reply> {
  const { version } = target;
  const resolved = resolveAdoptTarget(services.topology, target.stage, target.consumer, undefined);
  if (!resolved.ok) return ephemeral(renderRefusal(resolved));
  try {
    const outcome = await adoptAs(services, userId, {
      consumer: resolved.consumer,
      stage: resolved.stage,
      version,
      channel: target.channelId,
      ...(target.resumedSince !== undefined ? { resumedSince: target.resumedSince } : {}),
    });
    return adoptReply(outcome, userId);
  } catch (error) {
    services.log.error({ err: error }, 'adopt failed');
    return ephemeral(mrkdwnMessage(adoptFailedText(error, version, `/smv adopt ${resolved.stage.displayName} ${version}`)));
  }
}

/** Adopt all from a click: every stage (FQNs) resolved here, once; the same use case as `/smv adopt geo V cms V`. */
export async function runAdoptAll(
  services: BotServices,
  target: { stages: string[]; version: string; consumer: string; channelId: string; resumedSince?: string },
  userId: string,
): Promise<Reply> {
  const { version } = target;
  const pairs: { stage: KnownStage; version: string }[] = [];
  for (const fqn of target.stages) {
    const stage = services.topology.resolveStage(fqn);
    if (!stage.ok) return ephemeral(renderRefusal(stage));
    pairs.push({ stage: stage.stage, version });
  }
  const consumer = services.topology.resolveConsumer(target.consumer, undefined);
  if (!consumer.ok) return ephemeral(renderRefusal(consumer));
  const twice = stageNamedTwice(pairs);
  if (twice) return ephemeral(renderRefusal(twice));
  try {
    const outcome = await adoptAllAs(services, userId, {
      consumer: consumer.consumer,
      pairs,
      channel: target.channelId,
      ...(target.resumedSince !== undefined ? { resumedSince: target.resumedSince } : {}),
    });
    return adoptAllReply(outcome, userId);
  } catch (error) {
    services.log.error({ err: error }, 'adopt all failed');
    return ephemeral(mrkdwnMessage(adoptFailedText(error, version, `/smv adopt ${pairs.map((p) => `${p.stage.displayName} ${version}`).join(' ')}`)));
  }
}

function adoptModal(state: AdoptModalState, sealed: string, consumers: string[], stageName: string | string[]): ModalView {
  const shown = consumers.slice(0, MAX_OPTIONS);
  const options: PlainTextOption[] = shown.map((name) => ({ text: { type: 'plain_text', text: optionText(name) }, value: name }));
  const more = consumers.length - shown.length;
  return {
    type: 'modal',
    callback_id: ADOPT_MODAL_CALLBACK,
    // Signed: a submission can only carry back what the bot put there (stage, version, where to answer).
    private_metadata: sealed,
    title: { type: 'plain_text', text: 'Adopt version' },
    submit: { type: 'plain_text', text: 'Adopt' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            Array.isArray(stageName)
              ? `Pin ${stageName.map((n) => `*${esc(n)}*`).join(', ')} to ${code(state.version)}, in one commit, for which consumer?`
              : `Pin *${esc(stageName)}* to ${code(state.version)} for which consumer?`,
          ),
        },
      },
      ...(more > 0
        ? [
            {
              type: 'context' as const,
              elements: [
                {
                  type: 'mrkdwn' as const,
                  text: clip(
                    `The list shows the first ${shown.length} consumers; … and ${more} more: for those, type ${code(`/smv adopt ${(state.stages ?? [state.stage]).map((st) => `${st} ${state.version}`).join(' ')} <consumer>`)}.`,
                    2000,
                  ),
                },
              ],
            },
          ]
        : []),
      {
        type: 'input',
        block_id: CONSUMER_BLOCK,
        label: { type: 'plain_text', text: 'Consumer' },
        element: {
          type: 'static_select',
          action_id: CONSUMER_ACTION,
          options,
        },
      },
    ],
  };
}
