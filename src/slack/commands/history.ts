// `/smv history [stage] [consumer]`: recent adoptions, answered in the ack.
import { renderHistory } from '../render/answers.ts';
import { code } from '../render/mrkdwn.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { renderRefusal } from '../render/refusals.ts';
import { ephemeral, type Reply } from '../services.ts';
import { asParsed, defineCommand, parseError, tooMany, type ParseError } from './command.ts';

const help = {
  name: 'history',
  usage: '/smv history [stage] [consumer]',
  summary: 'recent adoptions: who, when, from → to, commit',
  examples: ['/smv history', '/smv history geo', '/smv history geo client-model', '/smv history * client-model'],
} as const;

/**
 * The arguments as typed. With one argument only the caller knows whether it names a stage or a
 * consumer — see `resolveHistoryArgs`.
 */
type History = { kind: 'history'; args: [] | [string] | [string, string] };

export const history = defineCommand<History, History, Reply>({
  ...help,
  parse(args) {
    const [a, b] = args;
    if (args.length > 2) return tooMany(help, 'at most a stage and a consumer', args);
    if (a === undefined) return { kind: 'history', args: [] };
    return b === undefined ? { kind: 'history', args: [a] } : { kind: 'history', args: [a, b] };
  },
  inAck: true,
  resolve: asParsed,
  /** The channel's consumer by default, else every consumer. */
  async run({ services, channelId }, { args }) {
    const { topology } = services;
    const resolved = resolveHistoryArgs(args, {
      isStage: (name) => {
        const r = topology.resolveStage(name);
        return r.ok || r.code === 'ambiguous-stage';
      },
      consumers: topology.consumers.map((c) => c.name),
    });
    if (resolved.kind === 'error') return ephemeral(mrkdwnMessage(resolved.message));
    let stageFqn: string | undefined;
    if (resolved.stage !== undefined) {
      const stage = topology.resolveStage(resolved.stage);
      if (!stage.ok) return ephemeral(renderRefusal(stage));
      stageFqn = stage.stage.fqn;
    }
    let consumer = resolved.consumer;
    if (consumer !== undefined) {
      const found = topology.resolveConsumer(consumer, undefined);
      if (!found.ok) return ephemeral(renderRefusal(found));
    } else if (args.length < 2) {
      const bound = topology.consumersForChannel(channelId);
      if (bound.length === 1) consumer = bound[0]!.name;
    }
    const records = await services.adoptions({ ...(stageFqn ? { stage: stageFqn } : {}), ...(consumer ? { consumer } : {}), limit: 15 });
    const scope = [stageFqn ? ` of ${topology.stage(stageFqn)?.displayName ?? stageFqn}` : '', consumer ? ` for ${consumer}` : ''].join('');
    return ephemeral(renderHistory(records, topology, scope));
  },
  render: (reply) => reply,
});

const STAGE_WILDCARDS = new Set(['*', 'all']);

/** What the caller knows about names, to place a lone `/smv history` argument. */
export interface HistoryNames {
  /** True when `name` is a stage (base name or FQN) — the caller's own matching rules apply. */
  isStage: (name: string) => boolean;
  /** Configured consumer names. */
  consumers: readonly string[];
}

/**
 * Turns `history` args into a stage and/or consumer. Two args are positional (stage, consumer);
 * `*` or `all` as the stage means every stage. A lone argument is a stage if it names one
 * (stages win a tie, matching the positional grammar), else a consumer if it names one, else an error.
 * Unknown names in the two-argument form are left for the caller to report.
 */
export function resolveHistoryArgs(
  args: readonly string[],
  names: HistoryNames,
): { kind: 'history'; stage?: string; consumer?: string } | ParseError {
  const [first, second] = args;
  if (first === undefined) return { kind: 'history' };
  const stage = STAGE_WILDCARDS.has(first.toLowerCase()) ? undefined : first;
  if (second !== undefined) return stage === undefined ? { kind: 'history', consumer: second } : { kind: 'history', stage, consumer: second };
  if (stage === undefined) return { kind: 'history' };
  if (names.isStage(stage)) return { kind: 'history', stage };
  const consumer = names.consumers.find((c) => c.toLowerCase() === stage.toLowerCase());
  if (consumer !== undefined) return { kind: 'history', consumer };
  const known = names.consumers.length > 0 ? ` Consumers: ${names.consumers.map((c) => `\`${c}\``).join(', ')}.` : '';
  return parseError(
    `${code(stage)} is neither a stage nor a consumer.${known} Try \`/smv history geo\`, \`/smv history * client-model\`, or \`/smv releases\` to see the stages.`,
  );
}
