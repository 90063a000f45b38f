// Answers and notices of the release lifecycle: deprecations and subscriptions (SPEC §4).
import { code, esc } from './mrkdwn.ts';
import type { Deprecation, Subscription } from '../../domain/records.ts';
import type { DeprecateOutcome, SubscribeOutcome, UndeprecateOutcome } from '../../core/lifecycle.ts';
import type { ConsumerSpec, Topology } from '../../core/topology.ts';
import { adoptButton } from './announcement.ts';
import { formatTime, mrkdwnMessage, type SlackMessage } from './format.ts';
import { renderRefusal } from './refusals.ts';

export const DEPRECATION_ADOPT_ACTION = 'smv_adopt:deprecation';

export function renderDeprecateOutcome(outcome: DeprecateOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  const { stage, deprecation: d } = outcome;
  if (outcome.status === 'already-deprecated') {
    return {
      message: mrkdwnMessage(
        `${esc(stage.displayName)} ${code(d.version)} was already deprecated by ${esc(d.by.name)} on ${formatTime(d.at)}${reasonText(d)}. Nothing changed; \`/smv undeprecate ${esc(stage.displayName)} ${esc(d.version)}\` takes it back.`,
      ),
      inChannel: false,
    };
  }
  const told = outcome.notices.map((n) => `${esc(n.consumer.name)} in <#${n.channel}>`);
  const lines = [
    `<@${userId}> deprecated ${esc(stage.displayName)} ${code(d.version)}${reasonText(d)}. It can no longer be adopted and \`latest\` skips it` +
      (outcome.newestGood ? `; the newest good version is ${code(outcome.newestGood)}.` : '; no good version of it is left.'),
    told.length ? `Told the consumers pinned to it: ${told.join(', ')}.` : 'No consumer still to be told pins it.',
    ...(outcome.untold.length ? [`Pinned to it but with no channel to tell: ${outcome.untold.map((c) => esc(c.name)).join(', ')}.`] : []),
    ...(outcome.unread.length ? [`Could not read the pins of ${outcome.unread.map((u) => `${esc(u.consumer.name)} (${esc(u.why)})`).join(', ')}: check them with \`/smv pins &lt;consumer&gt;\`.`] : []),
  ];
  return { message: mrkdwnMessage(lines.join('\n'), lines), inChannel: true };
}

/** The message a pinned consumer's channel gets: what, why, and an Adopt button for the newest good version. */
export function renderDeprecationNotice(outcome: Extract<DeprecateOutcome, { ok: true }>, consumer: ConsumerSpec): SlackMessage {
  const { stage, deprecation: d, newestGood } = outcome;
  const text =
    `:warning: ${esc(stage.publisher.name)} deprecated ${esc(stage.displayName)} ${code(d.version)}${reasonText(d)}. ` +
    `${esc(consumer.name)} pins it.` +
    (newestGood ? ` The newest good version is ${code(newestGood)}.` : ' No good version of it is published yet.');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      ...(newestGood
        ? [{ type: 'actions' as const, block_id: 'smv_deprecation_actions', elements: [adoptButton({ stage: stage.fqn, version: newestGood }, stage.displayName, DEPRECATION_ADOPT_ACTION)] }]
        : []),
    ],
  };
}

export function renderUndeprecateOutcome(outcome: UndeprecateOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  if (outcome.status === 'not-deprecated') {
    return { message: mrkdwnMessage(`${esc(outcome.stage.displayName)} ${code(outcome.version)} is not deprecated. Nothing changed.`), inChannel: false };
  }
  return { message: mrkdwnMessage(`<@${userId}> took back the deprecation of ${esc(outcome.stage.displayName)} ${code(outcome.version)}: it can be adopted again.`), inChannel: true };
}

export function renderSubscribeOutcome(outcome: SubscribeOutcome, channel: string): SlackMessage {
  const what = outcome.stage === '*' ? 'every stage' : esc(outcome.stage.displayName);
  switch (outcome.status) {
    case 'subscribed':
      return mrkdwnMessage(`<#${channel}> now gets announcements of ${what} (new versions from now on, each once). \`/smv unsubscribe ${outcome.stage === '*' ? '*' : what}\` stops them.`);
    case 'already-subscribed':
      return mrkdwnMessage(`<#${channel}> already gets announcements of ${what}. Nothing changed.`);
    case 'unsubscribed':
      return mrkdwnMessage(`<#${channel}> no longer gets announcements of ${what} (it still gets those it is configured for in smvbot.yml).`);
    case 'not-subscribed':
      return mrkdwnMessage(`<#${channel}> has no subscription to ${what}. \`/smv subscribe\` lists what it has. Nothing changed.`);
  }
}

export function renderSubscriptions(subscriptions: Subscription[], channel: string, topology: Topology): SlackMessage {
  if (!subscriptions.length) return mrkdwnMessage(`<#${channel}> has no subscriptions. \`/smv subscribe &lt;stage&gt;\` (or \`*\`) adds one.`);
  const name = (fqn: string) => (fqn === '*' ? 'every stage (`*`)' : esc(topology.stage(fqn)?.displayName ?? fqn));
  const lines = subscriptions.map((s) => `• ${name(s.stage)} — by ${esc(s.by.name)} on ${formatTime(s.at)}`);
  return mrkdwnMessage([`<#${channel}> subscribes to:`, ...lines].join('\n'));
}

function reasonText(d: Deprecation): string {
  return d.reason ? `: “${esc(d.reason)}”` : '';
}
