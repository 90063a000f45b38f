// The answers to `/smv freeze` and `/smv unfreeze` (SPEC §4): a change is said in the channel.
import type { FreezeOutcome, UnfreezeOutcome } from '../../core/freezes.ts';
import { formatTime, mrkdwnMessage, type SlackMessage } from './format.ts';
import { freezeEndText, frozenByText } from './freezeWords.ts';
import { code, esc } from './mrkdwn.ts';
import { renderRefusal } from './refusals.ts';

/** What `/smv freeze` did: in the channel when it froze, else (a refusal) to the user only. */
export function renderFreezeOutcome(outcome: FreezeOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  const { consumer, freeze, replaced } = outcome;
  const name = esc(consumer.name);
  const text =
    `<@${userId}> froze ${name} ${freezeEndText(freeze.until)}${freeze.reason ? `: ${esc(freeze.reason)}` : ''}. ` +
    `Adopts and unpins for ${name} are refused meanwhile (an admin may add \`force\`); ${code(`/smv unfreeze ${consumer.name}`)} ends it.` +
    (replaced ? ` It replaces the freeze by <@${replaced.by.id}> ${freezeEndText(replaced.until)}${replaced.reason ? ` (${esc(replaced.reason)})` : ''}.` : '');
  return { message: mrkdwnMessage(text), inChannel: true };
}

/** What `/smv unfreeze` did: in the channel when it ended a freeze, else to the user only. */
export function renderUnfreezeOutcome(outcome: UnfreezeOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  const name = esc(outcome.consumer.name);
  if (outcome.status === 'not-frozen') {
    const ended = outcome.ended ? ` (the freeze by <@${outcome.ended.by.id}> ended by itself at ${formatTime(outcome.ended.until ?? outcome.ended.frozenAt)})` : '';
    return { message: mrkdwnMessage(`${name} is not frozen${ended}. Nothing to unfreeze.`), inChannel: false };
  }
  const { freeze } = outcome;
  return {
    message: mrkdwnMessage(`<@${userId}> unfroze ${name} (it was ${frozenByText(freeze, { esc, mention: (id) => `<@${id}>` })}). Adopts and unpins for ${name} are allowed again.`),
    inChannel: true,
  };
}
