// `/smv unpin <stage> [consumer]`: the stage's pin keys leave the pin file (back to live code).
import type { UnpinOutcome } from '../../core/adopt.ts';
import type { ConsumerSpec, KnownStage } from '../../core/topology.ts';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { renderUnpinOutcome } from '../render/answers.ts';
import { consumerQueue } from './adopt.ts';
import { defineCommand, parseError, replyOf, tooMany, withoutForce } from './command.ts';

const help = {
  name: 'unpin',
  usage: '/smv unpin <stage> [consumer]',
  summary: 'remove the pin so the stage runs live code again',
  examples: ['/smv unpin geo', '/smv unpin geo client-model'],
} as const;

/** A trailing `force` overrides a freeze (admins). */
export const unpin = defineCommand<
  { kind: 'unpin'; stage: string; consumer?: string; force?: true },
  { consumer: ConsumerSpec; stage: KnownStage; force: boolean },
  UnpinOutcome
>({
  ...help,
  parse(typed) {
    const { args, force } = withoutForce(typed);
    const [stage, consumer] = args;
    if (stage === undefined) return parseError('`/smv unpin` needs a stage. Try `/smv unpin geo` or `/smv unpin geo client-model`.');
    if (args.length > 2) return tooMany(help, 'a stage and optionally a consumer', args);
    const parsed = { kind: 'unpin', stage, ...(force ? { force } : {}) } as const;
    return consumer === undefined ? parsed : { ...parsed, consumer };
  },
  resolve(topology, cmd, channelId) {
    const resolved = resolveAdoptTarget(topology, cmd.stage, cmd.consumer, channelId);
    return resolved.ok ? { ok: true, command: { consumer: resolved.consumer, stage: resolved.stage, force: cmd.force === true } } : resolved;
  },
  queue: ({ consumer }) => consumerQueue(consumer.name),
  async run({ services, userId, channelId, resumedSince }, { consumer, stage, force }) {
    const actor = await services.actor(userId);
    return services.adopt.unpin({ consumer, stage, actor, channel: channelId, ...(force ? { force } : {}), ...(resumedSince !== undefined ? { resumedSince } : {}) });
  },
  render: (outcome, { userId }) => replyOf(renderUnpinOutcome(outcome, userId)),
});
