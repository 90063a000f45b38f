import type { HomeView } from '@slack/types';
import { stateTroubleAnswer } from '../../core/statePort.ts';
import { code, esc } from '../../domain/mrkdwn.ts';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { renderAdoptOutcome } from '../render/answers.ts';
import type { SlackMessage } from '../render/format.ts';
import { parseHomeAdoptValue } from '../render/home.ts';
import type { BotServices } from '../services.ts';
import { homeView } from './appHome.ts';

export interface HomeAdoptInput {
  value: string | undefined;
  userId: string;
}

/**
 * Adopt latest clicked on the App Home: the same adopt path as `/smv adopt`, for the consumer the
 * button names. A landed change is posted in the consumer's first channel, like every adopt; the
 * outcome (or refusal) is shown on top of the Home tab, published again with the new pins.
 */
export async function handleHomeAdopt(
  services: BotServices,
  input: HomeAdoptInput,
  post: (channel: string, message: SlackMessage) => Promise<unknown>,
  publish: (view: HomeView) => Promise<unknown>,
): Promise<void> {
  const notice = await adopt(services, input, post);
  await publish(await homeView(services, input.userId, notice));
}

async function adopt(services: BotServices, input: HomeAdoptInput, post: (channel: string, message: SlackMessage) => Promise<unknown>): Promise<string> {
  const target = parseHomeAdoptValue(input.value);
  if (!target) return ':warning: This Adopt button is malformed; nothing was adopted. Use `/smv adopt <stage> <version> <consumer>` instead.';
  const resolved = resolveAdoptTarget(services.topology, target.stage, target.consumer, undefined);
  if (!resolved.ok) return `:warning: ${resolved.message}`;
  const { consumer, stage } = resolved;
  const channel = consumer.channels[0];
  try {
    const actor = await services.actor(input.userId);
    const outcome = await services.adopt.adopt({ consumer, stage, version: target.version, actor, ...(channel ? { channel } : {}) });
    const { message, inChannel } = renderAdoptOutcome(outcome, input.userId);
    if (!inChannel) return `:warning: ${message.text}`;
    if (channel) {
      // Changes are public: the consumer's channel hears of it as it would of `/smv adopt`.
      await post(channel, message).catch((error: unknown) => services.log.warn({ err: error, channel }, 'could not tell the channel about an adopt from the App Home'));
    }
    return `:white_check_mark: ${message.text}`;
  } catch (error) {
    services.log.error({ err: error }, 'adopt from the App Home failed');
    const trouble = stateTroubleAnswer(error);
    if (trouble) return `:warning: Adopting ${esc(target.version)}: ${esc(trouble)}`;
    return `:warning: Sorry, adopting ${esc(target.version)} failed unexpectedly (it is in the bot log). Try ${code(`/smv adopt ${stage.displayName} ${target.version} ${consumer.name}`)} again.`;
  }
}
