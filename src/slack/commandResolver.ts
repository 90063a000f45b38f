// Names typed in Slack resolved once, into a command the use cases take as is: known stages and
// consumers, not strings. What does not resolve is answered here, before any I/O.
import type { Result } from '../domain/types.ts';
import type { ConsumerSpec, KnownStage, Topology } from '../core/topology.ts';
import type { SmvCommand } from './commandParser.ts';

export type ResolvedCommand =
  | { kind: 'releases'; stage: KnownStage | undefined }
  | { kind: 'pins'; consumer: ConsumerSpec }
  | { kind: 'adopt'; consumer: ConsumerSpec; stage: KnownStage; version: string }
  | { kind: 'unpin'; consumer: ConsumerSpec; stage: KnownStage }
  | { kind: 'diff'; stage: KnownStage; from: string; to: string }
  | { kind: 'deprecate'; stage: KnownStage; version: string; reason: string | null }
  | { kind: 'undeprecate'; stage: KnownStage; version: string }
  /** No stage: list the channel's subscriptions. */
  | { kind: 'subscribe'; stage: KnownStage | '*' | undefined }
  | { kind: 'unsubscribe'; stage: KnownStage | '*' };

export type ResolvableCommand = Exclude<SmvCommand, { kind: 'help' } | { kind: 'history' }>;

/** Stage first, then consumer (the channel's when none is named): the first mistake is the answer. */
export function resolveCommand(topology: Topology, cmd: ResolvableCommand, channelId: string): Result<{ command: ResolvedCommand }> {
  if (cmd.kind === 'subscribe' || cmd.kind === 'unsubscribe') {
    if (cmd.stage === undefined) return { ok: true, command: { kind: 'subscribe', stage: undefined } };
    let target: KnownStage | '*' = '*';
    if (cmd.stage !== '*') {
      const resolved = topology.resolveStage(cmd.stage);
      if (!resolved.ok) return resolved;
      target = resolved.stage;
    }
    return { ok: true, command: { kind: cmd.kind, stage: target } };
  }
  let stage: KnownStage | undefined;
  if ('stage' in cmd && cmd.stage !== undefined) {
    const resolved = topology.resolveStage(cmd.stage);
    if (!resolved.ok) return resolved;
    stage = resolved.stage;
  }
  if (cmd.kind === 'releases') return { ok: true, command: { kind: 'releases', stage } };
  if (cmd.kind === 'diff') return { ok: true, command: { kind: 'diff', stage: stage!, from: cmd.from, to: cmd.to } };
  if (cmd.kind === 'deprecate') return { ok: true, command: { kind: 'deprecate', stage: stage!, version: cmd.version, reason: cmd.reason } };
  if (cmd.kind === 'undeprecate') return { ok: true, command: { kind: 'undeprecate', stage: stage!, version: cmd.version } };
  const consumer = topology.resolveConsumer(cmd.consumer, channelId);
  if (!consumer.ok) return consumer;
  switch (cmd.kind) {
    case 'pins':
      return { ok: true, command: { kind: 'pins', consumer: consumer.consumer } };
    case 'adopt':
      return { ok: true, command: { kind: 'adopt', consumer: consumer.consumer, stage: stage!, version: cmd.version } };
    case 'unpin':
      return { ok: true, command: { kind: 'unpin', consumer: consumer.consumer, stage: stage! } };
  }
}

/** An adopt target from a button or modal: the stage FQN the bot wrote, the consumer by name or channel. */
export function resolveAdoptTarget(topology: Topology, stage: string, consumer: string | undefined, channelId: string | undefined): Result<{ consumer: ConsumerSpec; stage: KnownStage }> {
  const resolvedStage = topology.resolveStage(stage);
  if (!resolvedStage.ok) return resolvedStage;
  const resolvedConsumer = topology.resolveConsumer(consumer, channelId);
  if (!resolvedConsumer.ok) return resolvedConsumer;
  return { ok: true, consumer: resolvedConsumer.consumer, stage: resolvedStage.stage };
}
