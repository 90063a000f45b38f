// `/smv releases [stage]`: newest complete versions per stage, marking the channel's consumer's pin.
import type { ConsumerConfFiles } from '../../core/pinsReport.ts';
import { listReleases } from '../../core/releases.ts';
import type { KnownStage } from '../../core/topology.ts';
import { RepoAccessError, RepoFileRefusedError } from '../../core/workspaces.ts';
import { releasesAnswerFull, renderReleases } from '../render/answers.ts';
import { esc } from '../render/mrkdwn.ts';
import { ephemeral, type BotServices, type Reply } from '../services.ts';
import { defineCommand, tooMany, type CommandContext } from './command.ts';

const help = {
  name: 'releases',
  usage: '/smv releases [stage]',
  summary: 'newest complete versions per stage, with completion time and module count',
  examples: ['/smv releases', '/smv releases geo'],
} as const;

export const releases = defineCommand<{ kind: 'releases'; stage?: string }, { stage: KnownStage | undefined }, Reply>({
  ...help,
  parse(args) {
    if (args.length > 1) return tooMany(help, 'at most one stage', args);
    return args[0] === undefined ? { kind: 'releases' } : { kind: 'releases', stage: args[0] };
  },
  resolve(topology, cmd) {
    if (cmd.stage === undefined) return { ok: true, command: { stage: undefined } };
    const resolved = topology.resolveStage(cmd.stage);
    return resolved.ok ? { ok: true, command: { stage: resolved.stage } } : resolved;
  },
  // Git is needed only to mark the pin; with a recent read at hand the answer goes in the ack.
  quick: (ctx, cmd) => answer(ctx, cmd.stage, 'cached'),
  run: (ctx, cmd) => answer(ctx, cmd.stage, 'git'),
  render: (reply) => reply,
});

/**
 * The answer, marking the pin of the channel's consumer. `read` says how pins may be had: `cached`
 * answers only from a recent read (null when that would need git), `git` reads if needed.
 */
async function answer(ctx: CommandContext, stage: KnownStage | undefined, read: 'cached'): Promise<Reply | null>;
async function answer(ctx: CommandContext, stage: KnownStage | undefined, read: 'git'): Promise<Reply>;
async function answer({ services, channelId }: CommandContext, stage: KnownStage | undefined, read: 'cached' | 'git'): Promise<Reply | null> {
  const consumer = services.topology.resolveConsumer(undefined, channelId);
  const revision = services.catalog.revision;
  const listed = () =>
    listReleases(services.topology, services.catalog, {
      ...(stage ? { stage } : { full: releasesAnswerFull }),
      deprecationsOf: (fqn) => services.lifecycle.deprecationsOf(fqn),
    });
  if (!consumer.ok) {
    const { list, unlisted } = await listed();
    return ephemeral(renderReleases(list, null, undefined, unlisted));
  }
  const marked = async (files: ConsumerConfFiles) => {
    const { list, unlisted } = await listed();
    const read = list.map(({ stage: s }) => [s.fqn, services.pins.pinOf(files, s)] as const);
    const pins = new Map(read.map(([fqn, pin]) => [fqn, pin.version]));
    const unmanaged = new Map(read.flatMap(([fqn, pin]) => (pin.unmanaged ? [[fqn, pin.path ?? '']] : [])));
    return ephemeral(renderReleases(list, { consumer: consumer.consumer.name, pins, unmanaged }, undefined, unlisted));
  };
  if (read === 'cached') {
    const files = services.pins.freshConfFiles(consumer.consumer);
    if (!files) return null;
    // Same versions, same pin read, same question: the same answer (it is asked a lot after a release).
    return remembered(services, `${revision}|${stage?.fqn ?? '*'}|${consumer.consumer.name}|${files.readAt}`, () => marked(files));
  }
  try {
    return await marked(await services.pins.confFiles(consumer.consumer));
  } catch (error) {
    const gist = error instanceof RepoFileRefusedError ? error.message : error instanceof RepoAccessError ? error.failure.gist : undefined;
    if (gist === undefined) throw error;
    const { list, unlisted } = await listed();
    return ephemeral(renderReleases(list, null, `Could not read ${esc(consumer.consumer.name)}'s pins (${esc(gist)}), so they are not marked.`, unlisted));
  }
}

const answers = new WeakMap<BotServices, Map<string, Reply>>();

/** A small per-bot memo of rendered answers; keys carry everything the answer depends on, and are looked up before any work. */
async function remembered(services: BotServices, key: string, render: () => Promise<Reply>): Promise<Reply> {
  let memo = answers.get(services);
  if (!memo) answers.set(services, (memo = new Map()));
  let reply = memo.get(key);
  if (!reply) {
    reply = await render();
    if (memo.size >= 64) memo.clear();
    memo.set(key, reply);
  }
  return reply;
}
