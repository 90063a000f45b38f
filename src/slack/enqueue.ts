// A command that changes something is written to the state store before Slack gets its ack
// (SPEC §5 "Durable"); the command runner takes it from there and answers.
import { randomUUID } from 'node:crypto';
import { stateTroubleAnswer } from '../core/statePort.ts';
import type { QueuedCommand } from '../domain/records.ts';
import { mrkdwnMessage } from './render/format.ts';
import { esc } from './render/mrkdwn.ts';
import { ephemeral, type BotServices, type Reply } from './services.ts';

/**
 * Writes a command to the state store; null when it is there (the ack may go), else the answer
 * saying why nothing will happen.
 */
export async function enqueued(services: BotServices, command: Omit<QueuedCommand, 'attempts' | 'id' | 'receivedAt'>): Promise<Reply | null> {
  try {
    await services.commands.enqueue({ ...command, id: randomUUID(), receivedAt: (services.now?.() ?? new Date()).toISOString() });
    return null;
  } catch (error) {
    services.log.warn({ err: error, queue: command.queue }, 'could not write a command to the state store; refused it');
    const trouble = stateTroubleAnswer(error);
    return ephemeral(
      mrkdwnMessage(
        trouble
          ? esc(trouble)
          : 'The bot could not record your command (an unexpected error, in the bot log), so nothing was changed. Try again in a minute; if it keeps failing, ask an admin to check `/healthz`.',
      ),
    );
  }
}
