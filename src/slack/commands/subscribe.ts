// `/smv subscribe [stage|*]`: this channel gets announcements of a stage; alone, what it subscribed to.
import type { SubscribeOutcome } from '../../core/lifecycle.ts';
import type { KnownStage, Topology } from '../../core/topology.ts';
import type { Subscription } from '../../domain/records.ts';
import type { Result } from '../../domain/types.ts';
import { renderSubscribeOutcome, renderSubscriptions } from '../render/lifecycle.ts';
import { ephemeral } from '../services.ts';
import { defineCommand, tooMany } from './command.ts';

const help = {
  name: 'subscribe',
  usage: '/smv subscribe [stage|*]',
  summary: "this channel gets announcements of that stage (`*`: every stage); with no argument, lists this channel's subscriptions",
  examples: ['/smv subscribe geo', '/smv subscribe *', '/smv subscribe'],
} as const;

/** `stage` is a stage or `*` (every stage); without one, the channel's subscriptions are listed. */
export const subscribe = defineCommand<
  { kind: 'subscribe'; stage?: string },
  { stage: KnownStage | '*' | undefined },
  { listed: Subscription[] } | SubscribeOutcome
>({
  ...help,
  parse(args) {
    if (args.length > 1) return tooMany(help, 'at most one stage (or `*`)', args);
    return args[0] === undefined ? { kind: 'subscribe' } : { kind: 'subscribe', stage: args[0] };
  },
  resolve(topology, cmd) {
    if (cmd.stage === undefined) return { ok: true, command: { stage: undefined } };
    const stage = resolveStageOrAll(topology, cmd.stage);
    return stage.ok ? { ok: true, command: { stage: stage.stage } } : stage;
  },
  // Listing is a read; a subscription changes the channel's, one at a time.
  queue: ({ stage }, channelId) => (stage === undefined ? null : channelQueue(channelId)),
  async run({ services, userId, channelId }, { stage }) {
    if (stage === undefined) return { listed: await services.lifecycle.subscriptionsOf(channelId) };
    const actor = await services.actor(userId);
    return services.lifecycle.subscribe({ channel: channelId, stage, actor });
  },
  render: (outcome, { services, channelId }) =>
    ephemeral('listed' in outcome ? renderSubscriptions(outcome.listed, channelId, services.topology) : renderSubscribeOutcome(outcome, channelId)),
});

/** Subscriptions of one channel change one at a time, in order. */
export function channelQueue(channelId: string): string {
  return `channel:${channelId}`;
}

/** A stage as typed, or `*`: every stage. */
export function resolveStageOrAll(topology: Topology, typed: string): Result<{ stage: KnownStage | '*' }> {
  if (typed === '*') return { ok: true, stage: '*' };
  return topology.resolveStage(typed);
}
