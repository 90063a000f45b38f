// Names typed in Slack resolved once, into what the use cases take as is: known stages and
// consumers, not strings. What does not resolve is answered before any I/O. Each subcommand
// resolves its own names (src/slack/commands/); this is the adopt target they and the clicks share.
import type { Result } from '../domain/types.ts';
import type { ConsumerSpec, KnownStage, Topology } from '../core/topology.ts';

/**
 * An adopt (or unpin) target: the stage as typed, or the FQN a button carries; the consumer by name,
 * else the channel's. Stage first, then consumer: the first mistake is the answer.
 */
export function resolveAdoptTarget(topology: Topology, stage: string, consumer: string | undefined, channelId: string | undefined): Result<{ consumer: ConsumerSpec; stage: KnownStage }> {
  const resolvedStage = topology.resolveStage(stage);
  if (!resolvedStage.ok) return resolvedStage;
  const resolvedConsumer = topology.resolveConsumer(consumer, channelId);
  if (!resolvedConsumer.ok) return resolvedConsumer;
  return { ok: true, consumer: resolvedConsumer.consumer, stage: resolvedStage.stage };
}
