// What the command runner does with a durable command (SPEC §5 "Durable"): run the same use case
// the listener would have run, and answer — through the response_url while Slack still takes it
// (30 minutes), else in the channel, mentioning the user and saying the answer was delayed.
import type { App } from '@slack/bolt';
import { MAX_COMMAND_ATTEMPTS } from '../core/commandRunner.ts';
import { code, esc } from './render/mrkdwn.ts';
import type { QueuedCommand } from '../domain/records.ts';
import { runAdopt, runAdoptAll } from './listeners/adoptButton.ts';
import { runHomeAdopt } from './listeners/homeAdopt.ts';
import { answerQueuedSmv } from './listeners/smvCommand.ts';
import type { Outbound } from './outbound.ts';
import { mrkdwnMessage, slackDate } from './render/format.ts';
import { sendReply } from './replies.ts';
import { ephemeral, type BotServices, type Reply } from './services.ts';

/** Slack takes answers on a response_url for 30 minutes; a minute is kept in hand. */
const RESPONSE_URL_LIFETIME_MS = 29 * 60_000;

export interface CommandExecutor {
  run(command: QueuedCommand): Promise<string>;
  giveUp(command: QueuedCommand): Promise<void>;
}

export function createCommandExecutor(services: BotServices, client: App['client'], outbound: Outbound): CommandExecutor {
  const now = () => services.now?.() ?? new Date();

  const deliver = async (command: QueuedCommand, reply: Reply): Promise<void> => {
    const resumed = command.attempts > 1;
    const expired = now().getTime() - Date.parse(command.receivedAt) >= RESPONSE_URL_LIFETIME_MS;
    if (!expired && (command.responseUrl !== null || !resumed)) {
      // As the listener would have answered (without a response_url: in the channel), saying when it was delayed.
      const note = '_(This answer was delayed: the bot restarted while working on it.)_';
      const noted = resumed ? { ...reply, text: `${reply.text}\n${note}`, ...(reply.blocks ? { blocks: [...reply.blocks, contextBlock(note)] } : {}) } : reply;
      await sendReply(client, outbound, services, command.responseUrl ?? undefined, command.channelId, command.userId, noted);
      return;
    }
    // Too late for the response_url: in the channel, to the user.
    const head = `<@${command.userId}> ${describe(command)}, sent ${slackDate(command.receivedAt)}, was delayed by a restart of the bot. Its answer:`;
    const late: Reply = {
      ...reply,
      response_type: 'in_channel',
      replace_original: false,
      text: `${head}\n${reply.text}`,
      ...(reply.blocks ? { blocks: [contextBlock(head), ...reply.blocks] } : {}),
    };
    await sendReply(client, outbound, services, undefined, command.channelId, command.userId, late);
  };

  return {
    async run(command) {
      const request = command.request;
      if (request.kind === 'adopt' && request.via === 'home') {
        await runHomeAdopt(
          services,
          { ...request, userId: command.userId },
          // Paced per channel with the announcements (the notifier), like every message the bot writes itself.
          (channel, message) => services.post(channel, message),
          (view) => client.views.publish({ user_id: command.userId, view: outbound.scrub(view) }),
        );
        return 'answered';
      }
      const resumed = command.attempts > 1 ? { resumedSince: command.receivedAt } : {};
      const where = { channelId: command.channelId, ...resumed };
      let reply: Reply;
      if (request.kind === 'smv') reply = await answerQueuedSmv(services, { text: request.text, userId: command.userId, ...where });
      else if (request.kind === 'adopt-all') reply = await runAdoptAll(services, { stages: request.stages, version: request.version, consumer: request.consumer, ...where }, command.userId);
      else reply = await runAdopt(services, { stage: request.stage, version: request.version, consumer: request.consumer, ...where }, command.userId);
      await deliver(command, reply);
      return 'answered';
    },
    async giveUp(command) {
      await deliver(
        command,
        ephemeral(
          mrkdwnMessage(
            `Sorry, ${describe(command)} could not be completed: the bot stopped ${MAX_COMMAND_ATTEMPTS} times while working on it. ` +
              'Check `/smv history` and `/smv pins` for what happened, then try again if it is still needed.',
          ),
        ),
      );
    },
  };
}

/** The command as the user gave it, for messages. */
function describe(command: QueuedCommand): string {
  const r = command.request;
  if (r.kind === 'smv') return `your ${code(`/smv ${r.text.trim()}`)}`;
  if (r.kind === 'adopt-all') return `your Adopt all of ${esc(r.stages.join(', '))} ${code(r.version)} for ${esc(r.consumer)}`;
  return `your Adopt of ${esc(r.stage)} ${code(r.version)} for ${esc(r.consumer)}`;
}

function contextBlock(text: string) {
  return { type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text }] };
}
