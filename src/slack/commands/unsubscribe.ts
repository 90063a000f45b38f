// `/smv unsubscribe <stage|*>`: this channel stops getting announcements it subscribed to.
import type { SubscribeOutcome } from '../../core/lifecycle.ts';
import type { KnownStage } from '../../core/topology.ts';
import { renderSubscribeOutcome } from '../render/lifecycle.ts';
import { ephemeral } from '../services.ts';
import { defineCommand, parseError, tooMany } from './command.ts';
import { channelQueue, resolveStageOrAll } from './subscribe.ts';

const help = {
  name: 'unsubscribe',
  usage: '/smv unsubscribe <stage|*>',
  summary: 'this channel stops getting announcements it subscribed to',
  examples: ['/smv unsubscribe geo', '/smv unsubscribe *'],
} as const;

export const unsubscribe = defineCommand<{ kind: 'unsubscribe'; stage: string }, { stage: KnownStage | '*' }, SubscribeOutcome>({
  ...help,
  parse(args) {
    if (args[0] === undefined) return parseError('`/smv unsubscribe` needs a stage or `*`. Try `/smv unsubscribe geo`, or `/smv subscribe` to see what this channel subscribed to.');
    if (args.length > 1) return tooMany(help, 'one stage (or `*`)', args);
    return { kind: 'unsubscribe', stage: args[0] };
  },
  resolve(topology, cmd) {
    const stage = resolveStageOrAll(topology, cmd.stage);
    return stage.ok ? { ok: true, command: { stage: stage.stage } } : stage;
  },
  queue: (_cmd, channelId) => channelQueue(channelId),
  run: ({ services, channelId }, { stage }) => services.lifecycle.unsubscribe({ channel: channelId, stage }),
  render: (outcome, { channelId }) => ephemeral(renderSubscribeOutcome(outcome, channelId)),
});
