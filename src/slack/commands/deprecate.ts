// `/smv deprecate <stage> <version> [reason…]`: publisher owners and admins take a version back.
import type { DeprecateOutcome } from '../../core/lifecycle.ts';
import type { KnownStage } from '../../core/topology.ts';
import { renderDeprecateOutcome, renderDeprecationNotice } from '../render/lifecycle.ts';
import type { BotServices } from '../services.ts';
import { defineCommand, parseError, replyOf } from './command.ts';

const help = {
  name: 'deprecate',
  usage: '/smv deprecate <stage> <version> [reason…]',
  hint: 'deprecate <stage> <version> [reason]',
  summary: 'publisher owners and admins: take a version back; its announcements say so, consumers pinned to it are told, and it can no longer be adopted',
  examples: ['/smv deprecate geo TCD.20160802.geo zip codes shifted by one'],
} as const;

/** `reason` is the rest of the text, as typed (null when none). */
export const deprecate = defineCommand<
  { kind: 'deprecate'; stage: string; version: string; reason: string | null },
  { stage: KnownStage; version: string; reason: string | null },
  DeprecateOutcome
>({
  ...help,
  parse(args) {
    const [stage, version, ...reason] = args;
    if (version === undefined) {
      return parseError('`/smv deprecate` needs a stage and a version, and may give a reason. Try `/smv deprecate geo TCD.20160802.geo zip codes shifted by one`.');
    }
    return { kind: 'deprecate', stage: stage!, version, reason: reason.length ? reason.join(' ') : null };
  },
  resolve(topology, cmd) {
    const resolved = topology.resolveStage(cmd.stage);
    return resolved.ok ? { ok: true, command: { stage: resolved.stage, version: cmd.version, reason: cmd.reason } } : resolved;
  },
  queue: ({ stage }) => stageQueue(stage),
  async run({ services, userId, resumedSince }, { stage, version, reason }) {
    const actor = await services.actor(userId);
    const outcome = await services.lifecycle.deprecate({ stage, version, reason, actor, ...(resumedSince !== undefined ? { resumedSince } : {}) });
    if (outcome.ok) await tellPinnedConsumers(services, outcome);
    return outcome;
  },
  render: (outcome, { userId }) => replyOf(renderDeprecateOutcome(outcome, userId)),
});

/** Deprecations of one stage run one at a time, in order. */
export function stageQueue(stage: KnownStage): string {
  return `stage:${stage.fqn}`;
}

/** Each claimed notice is posted once; one that Slack refuses is logged (it was claimed: not retried). */
async function tellPinnedConsumers(services: BotServices, outcome: Extract<DeprecateOutcome, { ok: true }>): Promise<void> {
  for (const notice of outcome.notices) {
    try {
      await services.post(notice.channel, renderDeprecationNotice(outcome, notice.consumer));
    } catch (error) {
      services.log.warn({ err: error, channel: notice.channel, consumer: notice.consumer.name }, 'could not post a deprecation notice');
    }
  }
}
