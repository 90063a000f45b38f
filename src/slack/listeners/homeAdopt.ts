import type { HomeView } from '@slack/types';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { adoptAs, adoptFailedText, enqueueAdopt } from '../commands/adopt.ts';
import { renderAdoptOutcome } from '../render/answers.ts';
import type { SlackMessage } from '../render/format.ts';
import { parseHomeAdoptValue } from '../render/home.ts';
import { refusalText } from '../render/refusals.ts';
import type { BotServices } from '../services.ts';
import { homeView } from './appHome.ts';

export interface HomeAdoptInput {
  value: string | undefined;
  userId: string;
}

/**
 * Adopt latest clicked on the App Home: written to the state store before the ack; the command
 * runner adopts (runHomeAdopt) and publishes the tab again with the outcome on top.
 */
export async function handleHomeAdopt(
  services: BotServices,
  input: HomeAdoptInput,
  ack: () => Promise<void>,
  publish: (view: HomeView) => Promise<unknown>,
): Promise<void> {
  const target = parseHomeAdoptValue(input.value);
  const resolved = target ? resolveAdoptTarget(services.topology, target.stage, target.consumer, undefined) : null;
  if (!target || !resolved?.ok) {
    await ack();
    const notice = !target
      ? ':warning: This Adopt button is malformed; nothing was adopted. Use `/smv adopt &lt;stage&gt; &lt;version&gt; &lt;consumer&gt;` instead.'
      : `:warning: ${resolved && !resolved.ok ? refusalText(resolved) : ''}`;
    await publish(await homeView(services, input.userId, notice));
    return;
  }
  const refused = await enqueueAdopt(services, {
    stage: target.stage,
    version: target.version,
    consumer: resolved.consumer.name,
    via: 'home',
    userId: input.userId,
    channelId: resolved.consumer.channels[0] ?? '',
    responseUrl: null,
  });
  await ack();
  if (refused) await publish(await homeView(services, input.userId, `:warning: ${refused.text}`));
}

/** The queued Home adopt: the outcome on top of the tab; a landed change also in the consumer's channel. */
export async function runHomeAdopt(
  services: BotServices,
  target: { stage: string; version: string; consumer: string; userId: string },
  post: (channel: string, message: SlackMessage) => Promise<unknown>,
  publish: (view: HomeView) => Promise<unknown>,
): Promise<void> {
  const notice = await adopt(services, target, post);
  await publish(await homeView(services, target.userId, notice));
}

async function adopt(
  services: BotServices,
  target: { stage: string; version: string; consumer: string; userId: string },
  post: (channel: string, message: SlackMessage) => Promise<unknown>,
): Promise<string> {
  const resolved = resolveAdoptTarget(services.topology, target.stage, target.consumer, undefined);
  if (!resolved.ok) return `:warning: ${refusalText(resolved)}`;
  const { consumer, stage } = resolved;
  const channel = consumer.channels[0];
  try {
    const outcome = await adoptAs(services, target.userId, { consumer, stage, version: target.version, ...(channel ? { channel } : {}) });
    const { message, inChannel } = renderAdoptOutcome(outcome, target.userId);
    if (!inChannel) return `:warning: ${message.text}`;
    if (channel) {
      // Changes are public: the consumer's channel hears of it as it would of `/smv adopt`.
      await post(channel, message).catch((error: unknown) => services.log.warn({ err: error, channel }, 'could not tell the channel about an adopt from the App Home'));
    }
    return `:white_check_mark: ${message.text}`;
  } catch (error) {
    services.log.error({ err: error }, 'adopt from the App Home failed');
    return `:warning: ${adoptFailedText(error, target.version, `/smv adopt ${stage.displayName} ${target.version} ${consumer.name}`)}`;
  }
}
