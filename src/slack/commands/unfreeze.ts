// `/smv unfreeze [consumer]`: the consumer's adopters or an admin end its freeze now.
import type { UnfreezeOutcome } from '../../core/freezes.ts';
import type { ConsumerSpec } from '../../core/topology.ts';
import { renderUnfreezeOutcome } from '../render/freezes.ts';
import { consumerQueue } from './adopt.ts';
import { defineCommand, replyOf, tooMany } from './command.ts';

const help = {
  name: 'unfreeze',
  usage: '/smv unfreeze [consumer]',
  summary: "end the consumer's freeze now: adopts and unpins are allowed again",
  examples: ['/smv unfreeze', '/smv unfreeze client-model'],
} as const;

export const unfreeze = defineCommand<{ kind: 'unfreeze'; consumer?: string }, { consumer: ConsumerSpec }, UnfreezeOutcome>({
  ...help,
  parse(args) {
    if (args.length > 1) return tooMany(help, 'at most one consumer', args);
    return args[0] === undefined ? { kind: 'unfreeze' } : { kind: 'unfreeze', consumer: args[0] };
  },
  resolve(topology, cmd, channelId) {
    const consumer = topology.resolveConsumer(cmd.consumer, channelId);
    return consumer.ok ? { ok: true, command: { consumer: consumer.consumer } } : consumer;
  },
  queue: ({ consumer }) => consumerQueue(consumer.name),
  async run({ services, userId }, { consumer }) {
    const actor = await services.actor(userId);
    return services.freezes.unfreeze({ consumer, actor });
  },
  render: (outcome, { userId }) => replyOf(renderUnfreezeOutcome(outcome, userId)),
});
