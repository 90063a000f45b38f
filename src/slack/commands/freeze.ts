// `/smv freeze [consumer] [for <N>h|d | until <YYYY-MM-DD>] [reason…]`: the consumer's adopters or an
// admin stop adopts and unpins for it, for a while or until `/smv unfreeze`.
import type { FreezeOutcome } from '../../core/freezes.ts';
import type { ConsumerSpec } from '../../core/topology.ts';
import { isFreezeSpan, parseFreezeSpan, type FreezeSpan, type FreezeSpanProblem } from '../../domain/freezes.ts';
import { renderFreezeOutcome } from '../render/freezes.ts';
import { code } from '../render/mrkdwn.ts';
import { consumerQueue } from './adopt.ts';
import { defineCommand, parseError, replyOf } from './command.ts';

const help = {
  name: 'freeze',
  usage: '/smv freeze [consumer] [for <N>h|d | until <YYYY-MM-DD>] [reason…]',
  hint: 'freeze [consumer] [for <N>h|d | until <YYYY-MM-DD>] [reason]',
  summary:
    "adopters and admins: refuse adopts and unpins for the consumer for a while (`until` a day: through that day, UTC) or until `/smv unfreeze`; an admin may still add `force` to an adopt or unpin",
  examples: ['/smv freeze for 2d quarter-end runs', '/smv freeze client-model until 2026-12-31 quarter-end runs', '/smv freeze'],
} as const;

/** The longest reason kept: it is repeated in every refusal while the freeze lasts. */
const MAX_REASON = 300;

/**
 * `consumer`: named before `for`/`until`. `leading`: without such a clause the first word may name
 * a consumer or start the reason; resolving decides (a configured consumer's name is the consumer).
 */
type ParsedFreeze = { kind: 'freeze'; consumer?: string; leading?: string; span: FreezeSpan; reason: string | null };

export const freeze = defineCommand<ParsedFreeze, { consumer: ConsumerSpec; span: FreezeSpan; reason: string | null }, FreezeOutcome>({
  ...help,
  parse(args) {
    const isClause = (word: string | undefined) => word !== undefined && ['for', 'until'].includes(word.toLowerCase());
    const at = isClause(args[0]) ? 0 : isClause(args[1]) ? 1 : -1;
    if (at < 0) {
      const [leading, ...rest] = args;
      return reasoned({ kind: 'freeze', span: { kind: 'open' }, ...(leading !== undefined ? { leading } : {}) }, rest);
    }
    const span = parseFreezeSpan(args[at]!, args[at + 1]);
    if (!isFreezeSpan(span)) return parseError(spanProblemText(span));
    return reasoned({ kind: 'freeze', span, ...(at === 1 ? { consumer: args[0]! } : {}) }, args.slice(at + 2));
  },
  resolve(topology, cmd, channelId) {
    let { consumer: named, reason } = cmd;
    if (cmd.leading !== undefined) {
      if (topology.consumer(cmd.leading)) named = cmd.leading;
      else reason = [cmd.leading, reason].filter((w) => w !== null).join(' ');
    }
    const consumer = topology.resolveConsumer(named, channelId);
    return consumer.ok ? { ok: true, command: { consumer: consumer.consumer, span: cmd.span, reason } } : consumer;
  },
  queue: ({ consumer }) => consumerQueue(consumer.name),
  async run({ services, userId, resumedSince }, { consumer, span, reason }) {
    const actor = await services.actor(userId);
    return services.freezes.freeze({ consumer, span, reason, actor, ...(resumedSince !== undefined ? { resumedSince } : {}) });
  },
  render: (outcome, { userId }) => replyOf(renderFreezeOutcome(outcome, userId)),
});

function reasoned(parsed: Omit<ParsedFreeze, 'reason'>, words: readonly string[]): ParsedFreeze | ReturnType<typeof parseError> {
  const reason = words.length ? words.join(' ') : null;
  if (reason !== null && reason.length > MAX_REASON) {
    return parseError(`The reason is ${reason.length} characters long: keep it to ${MAX_REASON} (every refused adopt repeats it). Nothing was changed.`);
  }
  return { ...parsed, reason };
}

function spanProblemText(problem: FreezeSpanProblem): string {
  const examples = 'e.g. `/smv freeze for 36h`, `/smv freeze client-model for 2d quarter-end runs` or `/smv freeze until 2026-12-31`';
  switch (problem.kind) {
    case 'missing-value':
      return problem.word === 'for'
        ? `\`for\` needs a length in hours or days, ${examples}. Without \`for\` or \`until\` the freeze lasts until \`/smv unfreeze\`.`
        : `\`until\` needs the freeze's last day as YYYY-MM-DD (it is frozen through that day, UTC), ${examples}.`;
    case 'bad-duration':
      return `${code(`for ${problem.typed}`)} is not a length: write hours or days as one word (\`36h\`, \`2d\`), ${examples}.`;
    case 'zero-duration':
      return `A freeze ${code(`for ${problem.typed}`)} would end at once: give at least 1 hour (\`for 1h\`), ${examples}.`;
    case 'too-long':
      return `${code(`for ${problem.typed}`)} is longer than ten years: leave out \`for\` to freeze until \`/smv unfreeze\`, or give a shorter length, ${examples}.`;
    case 'bad-date':
      return `${code(`until ${problem.typed}`)} is not a date: write the freeze's last day as YYYY-MM-DD (it is frozen through that day, UTC), ${examples}.`;
  }
}
